// Package ebattr holds the edgebill vendor attributes (vendor 32473),
// generated from ../dictionary.edgebill by layeh.com/radius's
// radius-dict-gen. Do not edit ebattr.go by hand: edit the dictionary and
// run go generate.
package ebattr

//go:generate go run layeh.com/radius/cmd/radius-dict-gen -package ebattr -output ebattr.go ../dictionary.edgebill
