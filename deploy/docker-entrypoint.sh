#!/bin/sh
# The container's entrypoint: a new installation on first start (`digest init` where
# $DIGEST_CONFIG points), then the digest command given (default: daemon).
set -eu
config="${DIGEST_CONFIG:-/data/digest.toml}"
if [ ! -f "$config" ]; then
    digest init "$(dirname "$config")"
fi
exec digest "$@"
