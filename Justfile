# agentload recipes: `just --list`

# Run the smoke plan against the embedded reference target (writes reports/smoke-*/)
smoke:
    cargo run --release -- run loadplans/smoke.toml

# Run a load plan: `just run loadplans/ramp-up.toml`
run plan:
    cargo run --release -- run {{plan}}

# Serve the reference target by hand (needs AGENTLOAD_JWT_SECRET)
target *args:
    cargo run --release -- target {{args}}

# The test suite (what CI runs after fmt and clippy)
test:
    cargo test

# Everything CI runs
ci:
    bash .ci/run

fmt:
    cargo fmt --all

# Benchmark: W1/W2/W3 (+TLS) side by side with Goose's floor (examples/goose_floor.rs) and the
# bare client (examples/bare_client.rs), W5 (what a ws and a wss session cost, beside what TLS
# costs with no socket: examples/tls_floor.rs), writing reports/bench-<ts>/bench.md and .json;
# then the cost of a reading, a soak's memory (scripts/soak.py), and the capacity searches and
# scaling studies at a few runs a second against their simulations (minutes each).
# One workload: `just bench W1`
bench workloads="W1,W2,W3,W3-tls,W3-watched,W5-ws,W5-wss,W5-wss-resume":
    cargo build --release --bin agentload --example bare_client --example goose_floor --example reading_cost --example tls_floor
    python3 scripts/bench.py --workloads {{workloads}}
    ./target/release/examples/reading_cost
    python3 scripts/soak.py
    cargo test --test suite measuring:: -- --ignored
    cargo test --test suite studies:: -- --ignored

# Soak: the generator's memory over a few minutes at a high session rate, and a day's
# extrapolation: `just soak 150/s 10`
soak rate="300/s" minutes="4":
    cargo build --release --bin agentload
    python3 scripts/soak.py --rate {{rate}} --minutes {{minutes}}
