# trackstar-pipeline: one Makefile for every binary, test and stack command.
#
#   make              build bin/ (all stages, dev broker, simulator, tools)
#   make SANITIZE=1   the same with ASan + UBSan, into bin-san/
#   make run          the whole local stack in the foreground (Ctrl-C stops it)
#   make up / down    the same stack in the background
#   make test         unit tests, then integration tests on a local stack
#   make bench        benchmarks
#
# Layout convention: each binary's directory has main.c holding main(); every other
# .c file there goes into that directory's static library, so unit tests can link the
# code without its main. common/*.c is libcommon.a.

CC       ?= cc
SANITIZE ?= 0

ifeq ($(SANITIZE),1)
BUILD    := build/san
BIN      := bin-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT      := -O1
else
BUILD    := build/release
BIN      := bin
SANFLAGS :=
OPT      := -O2
endif

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers
CPPFLAGS := -D_GNU_SOURCE -Icommon -I. -MMD -MP
CFLAGS   := -std=c11 $(OPT) -g $(WARN) $(SANFLAGS)
LDFLAGS  := $(SANFLAGS)
LDLIBS   := -lrdkafka -lcurl -lcjson -lpq -lssl -lcrypto -lmicrohttpd -lpthread -lm -ldl

# name:directory of every binary built from a directory with main.c
PROGRAMS := webhook-gw:webhook-gw fetcher:fetcher normalizer:normalizer writer:writer \
            dev-broker:deploy/dev-broker trackstar-sim:tests/simulator tsctl:tools/tsctl
PROG_DIRS := $(foreach p,$(PROGRAMS),$(word 2,$(subst :, ,$(p))))

COMMON_SRCS := $(wildcard common/*.c)
COMMON_LIB  := $(BUILD)/libcommon.a

lib_of  = $(BUILD)/$(1)/lib.a
srcs_of = $(filter-out $(1)/main.c,$(wildcard $(1)/*.c))
objs_of = $(patsubst %.c,$(BUILD)/%.o,$(call srcs_of,$(1)))

EXISTING_PROGRAMS := $(foreach p,$(PROGRAMS),$(if $(wildcard $(word 2,$(subst :, ,$(p)))/main.c),$(p)))
BINARIES := $(foreach p,$(EXISTING_PROGRAMS),$(BIN)/$(word 1,$(subst :, ,$(p))))

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

.SECONDARY:
.PHONY: all test unit-test integration-test run up down bench soak clean deps format format-check \
        header-check
all: $(BINARIES)

# trackstar_build_info's version and revision (common/metrics.c). The stamp file changes
# only when the revision does, so that metrics.o is rebuilt then and only then.
TS_REVISION := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
TS_VERSION  := $(shell git describe --tags --always 2>/dev/null || echo dev)
REV_STAMP   := $(BUILD)/revision.stamp
$(shell mkdir -p $(BUILD) && echo '$(TS_VERSION) $(TS_REVISION)' | cmp -s - $(REV_STAMP) || echo '$(TS_VERSION) $(TS_REVISION)' > $(REV_STAMP))
$(BUILD)/common/metrics.o: CPPFLAGS += -DTS_VERSION='"$(TS_VERSION)"' -DTS_REVISION='"$(TS_REVISION)"'
$(BUILD)/common/metrics.o: $(REV_STAMP)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# Archives are made afresh: `ar r` into an old one would keep the object of a source
# file since deleted or renamed, and the linker could take its stale symbols.
$(COMMON_LIB): $(patsubst %.c,$(BUILD)/%.o,$(COMMON_SRCS))
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^

define lib_rule
$(call lib_of,$(1)): $(call objs_of,$(1))
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	$(AR) rcs $$@ $$^
endef
$(foreach d,$(PROG_DIRS),$(if $(call srcs_of,$(d)),$(eval $(call lib_rule,$(d)))))

define prog_rule
$(BIN)/$(1): $(BUILD)/$(2)/main.o $(if $(call srcs_of,$(2)),$(call lib_of,$(2))) $(COMMON_LIB)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $$@ $$^ $(LDLIBS)
endef
$(foreach p,$(EXISTING_PROGRAMS),$(eval $(call prog_rule,$(word 1,$(subst :, ,$(p))),$(word 2,$(subst :, ,$(p))))))

# A unit test links libcommon plus the library its name prefix names:
# test_gw_* webhook-gw, test_fx_* fetcher, test_canon_* normalizer,
# test_db_*/test_writer_* writer, test_sim_* simulator, test_cli_* tools/tsctl;
# test_db_fx_* (the fetcher's tables, created by the writer's migrations) both.
TEST_PREFIX_DIRS := gw:webhook-gw fx:fetcher canon:normalizer db_fx:fetcher db:writer writer:writer \
                    sim:tests/simulator cli:tools/tsctl crypto:fetcher
test_dir = $(foreach pd,$(TEST_PREFIX_DIRS),$(if $(filter test_$(word 1,$(subst :, ,$(pd)))_%,$(1)),$(word 2,$(subst :, ,$(pd)))))
test_libs = $(foreach d,$(call test_dir,$(1)),$(call lib_of,$(d)))

# Link-time fault injection: test_crypto_faults wraps every OpenSSL call the project
# makes (its __wrap_X fails the nth call of X on demand, else calls the real X).
comma := ,
CRYPTO_CALLS := EVP_MAC_fetch EVP_MAC_CTX_new EVP_MAC_init EVP_MAC_update EVP_MAC_final \
                EVP_EncodeBlock RAND_bytes EVP_CIPHER_CTX_new EVP_EncryptInit_ex \
                EVP_CIPHER_CTX_ctrl EVP_EncryptUpdate EVP_EncryptFinal_ex EVP_DecryptInit_ex \
                EVP_DecryptUpdate EVP_DecryptFinal_ex
TEST_WRAP_test_crypto_faults := $(foreach f,$(CRYPTO_CALLS),-Wl$(comma)--wrap=$(f))

.SECONDEXPANSION:
$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $$(call test_libs,$$*) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $(TEST_WRAP_$*) -o $@ $< $(call test_libs,$*) $(COMMON_LIB) $(LDLIBS) -lcmocka

# Benchmark programs (tests/bench/bench_*.c) link every stage library.
BENCH_SRCS := $(wildcard tests/bench/bench_*.c)
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
ALL_STAGE_LIBS = $(foreach d,webhook-gw fetcher normalizer writer,$(if $(call srcs_of,$(d)),$(call lib_of,$(d))))
$(BUILD)/bench/%: $(BUILD)/tests/bench/%.o $(ALL_STAGE_LIBS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(ALL_STAGE_LIBS) $(COMMON_LIB) $(LDLIBS)

deps:
	@deploy/stack/install-deps.sh

unit-test: $(UNIT_TESTS)
	@tests/run-unit.sh $(UNIT_TESTS)

integration-test: all $(UNIT_TESTS)
	@BIN_DIR=$(BIN) BUILD_DIR=$(BUILD) tests/run-integration.sh

# The README's test command. Installs what is missing, builds, runs everything.
test: deps
	@$(MAKE) --no-print-directory -j$$(nproc) all $(UNIT_TESTS)
	@BIN_DIR=$(BIN) BUILD_DIR=$(BUILD) tests/run.sh

# In the demo the simulator's warehouses change every 15 s, so webhooks keep flowing.
run: deps all
	@BIN_DIR=$(BIN) STACK_SIM_CRAWL_MS=$${STACK_SIM_CRAWL_MS:-15000} deploy/stack/stack.sh run

up: deps all
	@BIN_DIR=$(BIN) deploy/stack/stack.sh up

down:
	@deploy/stack/stack.sh down

bench: deps all $(BENCH_BINS)
	@BIN_DIR=$(BIN) BENCH_DIR=$(BUILD)/bench tests/bench/run.sh

# The long fault soak (15 minutes of kills, restarts and pauses; SOAK_MINUTES), then the
# gateway's hostile-load test with phases of HOSTILE_SECONDS (120) instead of 12.
soak: deps all
	@BIN_DIR=$(BIN) tests/faults/soak.sh; s=$$?; \
	BIN_DIR=$(BIN) HOSTILE_SECONDS=$${HOSTILE_SECONDS:-120} STACK_PORT_BASE=$${FAULT_PORT_BASE:-24300} \
	  bash tests/integration/test_gw_hostile_load.sh; h=$$?; [ $$s -eq 0 ] && [ $$h -eq 0 ]

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# Fails, naming the files, when any C file differs from `make format` (run by `make test`).
format-check:
	@tests/format-check.sh

# Fails, naming the header, when a tracked .h does not compile on its own or included
# twice (an include guard that does not cover the whole file). Run by `make test`.
header-check:
	@tests/header-check.sh

clean:
	rm -rf build bin bin-san

-include $(shell find build -name '*.d' 2>/dev/null)
