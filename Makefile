# `make run` runs the whole system, `make test` is what CI runs. Both bring the
# backing services up first (scripts/services.sh).
CARGO ?= cargo
export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/atlantic
export RUST_BACKTRACE ?= 1

.PHONY: services run test bench down fmt lint toolchain test-tools

services:
	bash scripts/services.sh up

down:
	bash scripts/services.sh down

# `atlantic migrate` creates the database when it is missing.
run: services
	$(CARGO) build --release -p atlantic
	./target/release/atlantic migrate
	exec ./target/release/atlantic serve

toolchain:
	@$(CARGO) fmt --version >/dev/null 2>&1 && $(CARGO) clippy --version >/dev/null 2>&1 \
		|| rustup component add rustfmt clippy

fmt: toolchain
	$(CARGO) fmt --all

lint: toolchain
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# From PyPI: the SMTP server the notifier's tests start (aiosmtpd) and the
# API fuzzer the OpenAPI test runs (schemathesis).
test-tools:
	@python3 -c 'import aiosmtpd' 2>/dev/null \
		|| python3 -m pip install --quiet --disable-pip-version-check aiosmtpd==1.4.6
	@schemathesis --version 2>/dev/null | grep -q 4.32.5 \
		|| python3 -m pip install --quiet --disable-pip-version-check schemathesis==4.32.5

# Doc tests run first so the run ends on the main test summary. nextest does
# not run doc tests; --no-tests=warn keeps a crate without tests from failing.
test: toolchain services test-tools lint
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		set -x; \
		$(CARGO) test --workspace --doc && \
		$(CARGO) nextest run --workspace --no-fail-fast --no-tests=warn; \
	else \
		set -x; \
		$(CARGO) test --workspace; \
	fi

bench: services
	bash scripts/bench.sh
