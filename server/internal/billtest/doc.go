// Package billtest makes signed, chained bills and their RADIUS packets
// for billd's tests and benchmarks: a fake gateway that needs no PPPoE.
package billtest
