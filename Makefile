# Thin wrapper over CMake. The README's two commands:
#   make run   - install missing Debian packages, build, run the demo
#   make test  - same set-up, then the whole suite (unit, integration, sanitizers, lint)
# and, not part of the suite:
#   make bench - build, then bench/run.sh: every benchmark, one report (about 40 minutes)
BUILD ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
JOBS ?= $(shell nproc)
# Debian's interpreter: the packages (pytest, later scipy) are installed for it.
PYTHON ?= /usr/bin/python3
CMAKE_FLAGS ?= -DOUTPOST_WERROR=ON
SOURCES = $(shell git ls-files -co --exclude-standard -- '*.c' '*.h' 2>/dev/null)

.PHONY: all deps build run test bench unit integration asan tsan lint fuzz fuzz-build fuzz-smoke rules rules-check clean deb

all: build

deps:
	@./packaging/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# Only the two binaries the demo runs: a newcomer does not wait for the test programs.
run: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS) --target outpost outpost-target
	@./tests/support/run-demo.sh $(BUILD)

test: build lint rules-check unit integration asan tsan fuzz-smoke

# The benchmarks (bench/run.sh, docs/benchmarks.md): timings, so never part of `test`.
# BENCH_ARGS: e.g. --quick (a 4-minute soak) or --soak-minutes 60.
BENCH_ARGS ?=
bench: build
	@./bench/run.sh --build $(BUILD) $(BENCH_ARGS)

# Prometheus rules: promtool lint + unit tests of both rule files (the default one and
# the optional fleet one), and each PrometheusRule rendering must match its rule file.
RULE_FILES = rules/outpost.rules.yml rules/outpost.fleet.rules.yml
RULE_TESTS = rules/tests/outpost.rules.test.yml rules/tests/outpost.fleet.rules.test.yml
rules-check: deps
	promtool check rules --lint=all --lint-fatal $(RULE_FILES)
	promtool test rules $(RULE_TESTS)
	@./packaging/gen-prometheusrule.sh rules/outpost.rules.yml \
		| diff -u packaging/kubernetes/prometheusrule.yaml - \
		|| (echo "packaging/kubernetes/prometheusrule.yaml is stale: run make rules" && false)
	@./packaging/gen-prometheusrule.sh rules/outpost.fleet.rules.yml \
		| diff -u packaging/kubernetes/prometheusrule-fleet.yaml - \
		|| (echo "packaging/kubernetes/prometheusrule-fleet.yaml is stale: run make rules" && false)

rules:
	./packaging/gen-prometheusrule.sh rules/outpost.rules.yml > packaging/kubernetes/prometheusrule.yaml
	./packaging/gen-prometheusrule.sh rules/outpost.fleet.rules.yml \
		> packaging/kubernetes/prometheusrule-fleet.yaml

unit: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

# deb: tests/integration/test_package.py installs the package in a Debian 12 root.
# --durations: the ten slowest tests of each pass, to keep the suite's time in view.
# Two pytest workers (pytest-xdist), one test file each at a time: most tests wait on
# their agent's schedule rather than use the CPU, and every test starts its servers on
# free ports and its own temp dir, so files run side by side. PYTEST_JOBS=0: one process.
# The chaos drills load every core on purpose, so they run alone, after the others.
PYTEST_JOBS ?= 2
PYTEST_ONE = $(PYTHON) -m pytest -q -p no:cacheprovider --durations=10
PYTEST = $(PYTEST_ONE) $(if $(filter-out 0,$(PYTEST_JOBS)),-n $(PYTEST_JOBS) --dist loadfile)
SERIAL_TESTS = tests/integration/test_chaos.py
# $(1): the build directory; $(2): environment for both runs.
INTEGRATION = $(2) OUTPOST_BUILD=$(abspath $(1)) $(PYTEST) \
	$(addprefix --ignore=,$(SERIAL_TESTS)) tests/integration && \
	$(2) OUTPOST_BUILD=$(abspath $(1)) $(PYTEST_ONE) $(SERIAL_TESTS)
integration: build deb
	$(call INTEGRATION,$(BUILD))

# The Debian package, $(BUILD)/deb/outpost_<version>_<arch>.deb (debhelper,
# packaging/debian); rebuilt incrementally.
deb: deps
	@JOBS=$(JOBS) ./packaging/build-deb.sh $(BUILD)

# The whole suite once more with AddressSanitizer + UndefinedBehaviorSanitizer.
asan: deps
	@CC=clang cmake -S . -B $(ASAN_BUILD) $(CMAKE_FLAGS) -DOUTPOST_SANITIZE=ON \
		-DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir $(ASAN_BUILD) --output-on-failure -j$(JOBS)
	$(call INTEGRATION,$(ASAN_BUILD),ASAN_OPTIONS=detect_leaks=1 \
		UBSAN_OPTIONS=print_stacktrace=1 OUTPOST_SANITIZED=1)

# ThreadSanitizer over the unit tests whose code runs on several threads:
# the alert sender, the canary rings, the probe loop, the recorder seqlock (and its trend), the rate
# limiter and the authentication cache (shared by the HTTP threads), the shared CA stores,
# the shared pages, the connection table, the silences thread, the audit log
# (threads writing at once) and the maintenance windows (ticks, API, reloads, probes).
TSAN_TESTS = test_alerts test_canary test_probe test_recorder test_rec_trend test_ratelimit \
	test_webauth test_castore test_pages test_conntrack test_smoke_run test_flow_run test_dns_run \
	test_silences test_audit test_maint
tsan: deps
	@CC=clang cmake -S . -B $(TSAN_BUILD) $(CMAKE_FLAGS) -DOUTPOST_TSAN=ON \
		-DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(TSAN_BUILD) -j$(JOBS) --target $(TSAN_TESTS)
	@for t in $(TSAN_TESTS); do \
		echo "tsan: $$t"; \
		OUTPOST_SOURCE_DIR=$(CURDIR) TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
			$(TSAN_BUILD)/$$t >$(TSAN_BUILD)/$$t.log 2>&1 \
			|| { cat $(TSAN_BUILD)/$$t.log; exit 1; }; \
	done

# clang-format clean and no banned calls (house style), strto* without an end
# pointer included (a call split over lines escapes this grep).
lint: deps
	@clang-format --dry-run --Werror $(SOURCES)
	@! git grep -nE '\b(strcpy|sprintf|strtok|atoi|sscanf)\s*\(' -- '*.c' '*.h' ':!tests/' \
		|| (echo "banned calls above: use snprintf, strtol/strtod with end checks" && false)
	@! git grep -nE 'strto(l|ll|ul|ull|d|f|ld|imax|umax)\s*\([^;]*,\s*NULL' -- '*.c' ':!tests/' \
		|| (echo "strto*(..., NULL) above: parse with an end pointer and range checks" && false)
	@$(PYTHON) tests/support/check_layers.py \
		|| (echo "includes above cross the layers (docs/internals.md)" && false)

# libFuzzer targets (tests/fuzz/; docs/internals.md, "Fuzzing"), built in one directory
# with the product code instrumented for coverage. `make fuzz` runs each for FUZZ_SECONDS;
# `make fuzz-smoke`, part of `make test`, for FUZZ_SMOKE_SECONDS over its committed seeds,
# so an input that crashes again fails the suite. One line of coverage per target.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 3
fuzz-build: deps
	@CC=clang cmake -S . -B $(FUZZ_BUILD) $(CMAKE_FLAGS) -DOUTPOST_FUZZ=ON \
		-DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzzers

fuzz: fuzz-build
	@./tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

fuzz-smoke: fuzz-build
	@./tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SMOKE_SECONDS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)
