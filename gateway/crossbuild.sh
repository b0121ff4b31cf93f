#!/bin/sh
# Cross-compile gatewayd for the CPUs home gateways use: static
# (CGO_ENABLED=0), stripped (-s -w), version stamped, one binary per
# target in OUTDIR (default bin/), named gatewayd-OS-ARCH[-VARIANT].
# Prints each binary's size.
#
#   gateway/crossbuild.sh [OUTDIR]
#
# Environment: GO (go), VERSION (git describe), GOARM (7),
# TARGETS (default below: os/arch[/variant], variant = GOARM or GOMIPS).
set -eu
cd "$(dirname "$0")/.."
out=${1:-bin}
go=${GO:-go}
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
targets=${TARGETS:-"linux/amd64 linux/arm64 linux/arm/${GOARM:-7} linux/mipsle/softfloat"}
ldflags="-s -w -X github.com/edgebill/edgebill/internal/version.Version=$version"
mkdir -p "$out"
for t in $targets; do
	os=${t%%/*}
	rest=${t#*/}
	arch=${rest%%/*}
	variant=
	[ "$rest" != "$arch" ] && variant=${rest#*/}
	name=gatewayd-$os-$arch${variant:+-$variant}
	case $arch in
	arm) export GOARM=$variant ;;
	mips | mipsle) export GOMIPS=${variant:-softfloat} ;;
	esac
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch $go build -trimpath -ldflags "$ldflags" \
		-o "$out/$name" ./gateway/cmd/gatewayd
	unset GOARM GOMIPS
	size=$(wc -c <"$out/$name")
	printf '%-32s %9d bytes  %5.2f MiB\n' "$name" "$size" "$(echo "$size" | awk '{print $1/1048576}')"
done
