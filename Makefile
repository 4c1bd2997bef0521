# Cairn — the two commands a newcomer needs:
#   make run    install missing Debian packages, build, start a local Cairn under ./run/
#   make test   the same set-up, then the whole test suite
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps configure build run demo test asan test-asan fuzz bench format clean

all: build

deps:
	@sh scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_ARGS)

configure: deps $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j$(JOBS)

run: build
	@sh scripts/run.sh $(BUILD)

# The runtime demo: xstreams, ULTs, messages, collectives and their metrics.
demo: build
	$(BUILD)/bin/cairn-rt-demo --config src/tools/rt_demo/rt-demo.yaml

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) --timeout 600

# Unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
asan: deps
	cmake -S . -B $(BUILD_ASAN) -DCAIRN_SANITIZE=address,undefined $(CMAKE_ARGS)
	cmake --build $(BUILD_ASAN) -j$(JOBS)

test-asan: asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --test-dir $(BUILD_ASAN) -L unit --output-on-failure -j$(JOBS) --timeout 600

# libFuzzer targets (clang); each runs briefly as a smoke test with `make fuzz-smoke`.
fuzz: deps
	CC=clang cmake -S . -B $(BUILD_FUZZ) -DCAIRN_FUZZ=ON -DCAIRN_SANITIZE=address,undefined
	cmake --build $(BUILD_FUZZ) -j$(JOBS)

fuzz-smoke: fuzz
	@sh scripts/fuzz-smoke.sh $(BUILD_FUZZ)

bench: build
	@sh scripts/bench-all.sh $(BUILD)

format:
	find src include tests bench -name '*.[ch]' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
