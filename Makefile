# SPDX-License-Identifier: GPL-2.0-or-later
# tsnatd - see README.md. `make help` lists the targets.
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
DESTDIR    ?=

CC      ?= cc
PKG_CONFIG ?= pkg-config
CFLAGS  ?= -O2 -g
FUZZ_SECONDS ?= 60
CHECK_FUZZ_SECONDS ?= 20

# Each compiler/sanitizer combination builds into its own folder, so that
# `make`, `make CC=clang` and `make ASAN=1 UBSAN=1` never mix objects.
VARIANT := $(notdir $(CC))$(if $(filter 1,$(ASAN)),-asan)$(if $(filter 1,$(UBSAN)),-ubsan)$(if $(filter 1,$(TSAN)),-tsan)
B       := build/$(VARIANT)

WARN := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wpointer-arith -Wundef -Wvla -Werror
# Link-time optimisation lets the one decision path inline across the
# modules (parse, policy, mode, flow, tsopt, csum) instead of keeping
# hand-inlined twins in headers. LTO=0 turns it off.
# gcc only: clang's LTO needs a linker plugin Debian's default linker lacks,
# so clang builds are plain (correct, slower).
LTO  ?= $(if $(findstring clang,$(CC)),0,1)
# Objects carry both forms (fat): the unit tests link the plain code, so
# that the linker's --wrap mocks see every call between modules.
LTOFLAGS := $(if $(filter 1,$(LTO)),-flto=auto -ffat-lto-objects)
SAN  := $(if $(filter 1,$(ASAN)),-fsanitize=address -fno-omit-frame-pointer) \
	$(if $(filter 1,$(UBSAN)),-fsanitize=undefined -fno-sanitize-recover=all) \
	$(if $(filter 1,$(TSAN)),-fsanitize=thread)

PKGS      := libnetfilter_queue libnfnetlink libmnl libconfig libsystemd libbpf
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) cmocka)
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS))
CMOCKA_LIBS = $(shell $(PKG_CONFIG) --libs cmocka)

ALL_CPPFLAGS := -D_GNU_SOURCE -Iinclude $(CPPFLAGS)
# White-box tests (and the legacy emulator) see the private headers beside
# the sources.
PRIV_CPPFLAGS := -Idaemon
ALL_CFLAGS    = $(WARN) $(SAN) $(LTOFLAGS) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS  := $(SAN) $(LTOFLAGS) $(CFLAGS) $(LDFLAGS)

# The pure packet path: no syscalls, no globals; shared by the daemon, the
# tests, the fuzzer, the legacy-server emulator and the benchmarks.
CORE   := csum packet tsopt ctlabel ha policy flow domain discovery mode mode_pass mode_strip mode_rewrite mode_observe mode_auto process
DAEMON := $(CORE) conf confenum confcheck confdoc log nfq engine flowsnap rules rulesapply rulestool rulesguard rulescheck ruleswatch stats state marks discofile notes rtnl \
	reload warn textbuf ctlreq control metrics ctlsock ctlsrv ctnl takeover offload offload_map offload_reload offline main
LEGACY := csum packet legacy_model legacy_main

CORE_OBJ   := $(CORE:%=$(B)/obj/%.o)
DAEMON_OBJ := $(DAEMON:%=$(B)/obj/%.o)
LEGACY_OBJ := $(B)/obj/csum.o $(B)/obj/packet.o $(B)/obj/legacy_model.o $(B)/obj/legacy_main.o

UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(filter-out tests/unit/pktbuild.c,$(wildcard tests/unit/test_*.c)))
UNIT_BINS  := $(UNIT_TESTS:%=$(B)/tests/%)
# Test programs link what they test; process/conf need the logger too.
UNIT_DEPS  := $(CORE_OBJ) $(B)/obj/conf.o $(B)/obj/confenum.o $(B)/obj/confcheck.o $(B)/obj/confdoc.o $(B)/obj/stats.o $(B)/obj/log.o \
	      $(B)/obj/nfq.o $(B)/obj/rules.o $(B)/obj/rulesapply.o $(B)/obj/rulestool.o $(B)/obj/rulesguard.o $(B)/obj/rulescheck.o $(B)/obj/state.o $(B)/obj/marks.o $(B)/obj/discofile.o $(B)/obj/notes.o \
	      $(B)/obj/rtnl.o $(B)/obj/reload.o $(B)/obj/warn.o $(B)/obj/legacy_model.o $(B)/tests/pktbuild.o \
	      $(B)/obj/flowsnap.o $(B)/obj/textbuf.o $(B)/obj/ctlreq.o $(B)/obj/control.o $(B)/obj/metrics.o \
	      $(B)/obj/ctlsock.o $(B)/obj/ctnl.o $(B)/obj/takeover.o

.PHONY: all unit unit-check metrics-check alerts-check legacy-cli link-check ctl-check service-user-check tsan bpf fuzz check e2e demo bench bench-smoke bench-stability man install install-tools uninstall clean help
all: $(B)/tsnatd $(B)/tsnatd-legacy $(B)/tsnatctl build/tsnatd build/tsnatd-legacy build/tsnatctl

# build/tsnatd always points at the last built variant: scripts use it.
build/tsnatd: $(B)/tsnatd
	ln -sf $(VARIANT)/tsnatd $@
build/tsnatd-legacy: $(B)/tsnatd-legacy
	ln -sf $(VARIANT)/tsnatd-legacy $@
build/tsnatctl: $(B)/tsnatctl
	ln -sf $(VARIANT)/tsnatctl $@

# tsnatctl: the control socket's client; the daemon renders everything.
# It parses the request with the daemon's own code (ctlreq.c) to tell a
# usage error from an error answer.
$(B)/tsnatctl: $(B)/obj/tsnatctl.o $(B)/obj/ctlreq.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^
$(B)/obj/%.o: tools/%.c | $(B)/obj
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(B)/tsnatd: $(DAEMON_OBJ)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread
# The negative control of the checksum tests (tests/e2e/offload.sh): the
# same daemon with a kernel program that leaves the TCP checksum stale.
$(B)/tsnatd-nocsum: $(filter-out $(B)/obj/offload.o,$(DAEMON_OBJ)) $(B)/obj/offload-nocsum.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

# The kernel data path is embedded in the daemon as a bpftool skeleton.
$(B)/obj/offload.o: daemon/offload.c build/bpf/shift.skel.h | $(B)/obj
	$(CC) $(ALL_CPPFLAGS) -Idaemon/bpf -Ibuild/bpf $(ALL_CFLAGS) -c -o $@ $<
$(B)/obj/offload-nocsum.o: daemon/offload.c build/bpf/nocsum/shift.skel.h | $(B)/obj
	$(CC) $(ALL_CPPFLAGS) -Idaemon/bpf -Ibuild/bpf/nocsum $(ALL_CFLAGS) -c -o $@ $<
$(B)/tsnatd-legacy: $(LEGACY_OBJ)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/obj/%.o: daemon/%.c | $(B)/obj
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<
$(B)/obj/%.o: tests/legacy/%.c | $(B)/obj
	$(CC) $(ALL_CPPFLAGS) $(PRIV_CPPFLAGS) -Itests/legacy $(ALL_CFLAGS) -c -o $@ $<
$(B)/tests/%.o: tests/unit/%.c | $(B)/tests
	$(CC) $(ALL_CPPFLAGS) $(PRIV_CPPFLAGS) $(TEST_CPPFLAGS) -Itests/unit -Itests/legacy $(ALL_CFLAGS) -Wno-missing-prototypes -c -o $@ $<
$(B)/tests/test_%: $(B)/tests/test_%.o $(UNIT_DEPS)
	$(CC) $(ALL_LDFLAGS) -fno-lto $(TEST_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS) -lpthread

# test_model holds process_packet() to the reference model in tests/model,
# which fuzz_model shares.
MODEL_SRC := tests/model/refmodel.c tests/model/refflows.c tests/model/refcheck.c
$(B)/tests/%.o: tests/model/%.c | $(B)/tests
	$(CC) $(ALL_CPPFLAGS) $(PRIV_CPPFLAGS) -Itests/model $(ALL_CFLAGS) -c -o $@ $<
$(B)/tests/test_model: $(MODEL_SRC:tests/model/%.c=$(B)/tests/%.o)
$(B)/tests/test_model.o: TEST_CPPFLAGS = -Itests/model

# Per-test flags: test_conf compares doc/tsnatd.conf.5 with the table.
$(B)/tests/test_conf.o: TEST_CPPFLAGS = -DTSNATD_SRCDIR='"$(CURDIR)"'

# test_confcheck makes state_dir read-only without root (mount needs it),
# and has a service user whether this system has one or not.
$(B)/tests/test_confcheck: TEST_LDFLAGS = -Wl,--wrap=faccessat -Wl,--wrap=getpwnam \
	-Wl,--wrap=getgrouplist

# test_state fails syscalls and moves the clock (multipath-tools style).
$(B)/tests/test_state: TEST_LDFLAGS = -Wl,--wrap=write -Wl,--wrap=fsync \
	-Wl,--wrap=rename -Wl,--wrap=time

# test_rulesapply reads its own /proc/net/ip_tables_names.
$(B)/tests/test_rulesapply: TEST_LDFLAGS = -Wl,--wrap=fopen

# test_nfq sees what nfqmsg_batch_run() hands process_packet().
$(B)/tests/test_nfq: TEST_LDFLAGS = -Wl,--wrap=process_packet

# test_offload_reload: offload_reload.c alone, offload.c's side faked.
$(B)/tests/test_offload_reload: $(B)/obj/offload_reload.o

# test_reload sees when the old configuration is freed.
$(B)/tests/test_reload: TEST_LDFLAGS = -Wl,--wrap=conf_free

# test_engine runs the engine on fake sockets: the netlink calls, recvmmsg
# and sendmsg are mocked, conf_free scribbles over what it frees.
$(B)/tests/test_engine: $(B)/obj/engine.o
$(B)/tests/test_engine: TEST_LDFLAGS = -Wl,--wrap=sendmsg -Wl,--wrap=recvmmsg \
	-Wl,--wrap=mnl_socket_open -Wl,--wrap=mnl_socket_bind -Wl,--wrap=mnl_socket_close \
	-Wl,--wrap=mnl_socket_get_fd -Wl,--wrap=mnl_socket_get_portid \
	-Wl,--wrap=mnl_socket_setsockopt -Wl,--wrap=mnl_socket_sendto \
	-Wl,--wrap=mnl_socket_recvfrom -Wl,--wrap=conf_free

# keep the test objects between runs
.SECONDARY:

$(B)/obj $(B)/tests build/bench:
	mkdir -p $@

# doc/tsnatd.conf.5 is generated from the key table in daemon/conf.c and
# committed; test_conf fails when it differs from what the table gives.
man: $(B)/tsnatd
	$(B)/tsnatd --print-config-keys=man >doc/tsnatd.conf.5

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done
	@$(MAKE) --no-print-directory unit-check metrics-check alerts-check legacy-cli link-check \
		ctl-check service-user-check

# tsnatctl's conventions (exit status, options around the command, error
# answers printed whole, its man page) against a stand-in daemon.
ctl-check: $(B)/tsnatctl
	TSNATCTL=$(CURDIR)/$(B)/tsnatctl tests/unit/tsnatctl.sh

# tsnatd -t as root checks the file as the service user will read it; a
# user database of its own in a mount namespace (root; skipped without).
service-user-check: $(B)/tsnatd
	TSNATD=$(CURDIR)/$(B)/tsnatd tests/unit/service_user.sh

# A sample rendering of the metrics (test_metrics writes it) through
# promtool's linter; skipped without promtool (Debian: prometheus).
metrics-check: $(B)/tests/test_metrics
	@if ! command -v promtool >/dev/null 2>&1; then \
		echo "metrics-check: skipped (needs promtool, Debian package prometheus)"; exit 0; fi; \
	set -e; $(B)/tests/test_metrics --sample >$(B)/metrics-sample.prom; \
	promtool check metrics <$(B)/metrics-sample.prom; \
	echo "metrics-check: promtool check metrics clean ($$(grep -c '^tsnatd_' $(B)/metrics-sample.prom) samples)"

# The monitoring files: every tsnatd_* name in the alert rules, their tests
# and the Grafana dashboard is one the daemon exports (the sample's
# families), the dashboard is valid JSON; then promtool checks the rules
# and runs their unit tests, and parses the dashboard's queries as rules
# (skipped without promtool).
MONITORING := conf/tsnatd.rules.yml tests/alerts/tsnatd.rules.test.yml conf/tsnatd-grafana.json
alerts-check: $(B)/tests/test_metrics
	@set -e; $(B)/tests/test_metrics --sample >$(B)/metrics-sample.prom; \
	tests/alerts/metricnames.py --self-test; \
	tests/alerts/metricnames.py $(B)/metrics-sample.prom $(MONITORING)
	@if ! command -v promtool >/dev/null 2>&1; then \
		echo "alerts-check: promtool skipped (needs promtool, Debian package prometheus)"; exit 0; fi; \
	set -e; promtool check rules conf/tsnatd.rules.yml >$(B)/alerts-check.txt 2>&1 || \
		{ cat $(B)/alerts-check.txt; exit 1; }; \
	promtool test rules tests/alerts/tsnatd.rules.test.yml >>$(B)/alerts-check.txt 2>&1 || \
		{ cat $(B)/alerts-check.txt; exit 1; }; \
	tests/alerts/dashboard_rules.py conf/tsnatd-grafana.json >$(B)/dashboard-queries.yml; \
	promtool check rules $(B)/dashboard-queries.yml >>$(B)/alerts-check.txt 2>&1 || \
		{ cat $(B)/alerts-check.txt; exit 1; }; \
	echo "alerts-check: promtool check rules clean ($$(grep -c '^      - alert:' conf/tsnatd.rules.yml) alerts), promtool test rules passed ($$(grep -c 'alertname:' tests/alerts/tsnatd.rules.test.yml) checks), $$(grep -c 'record:' $(B)/dashboard-queries.yml) dashboard queries parse"

# The legacy emulator's command line (--help, refused arguments): no root,
# no socket.
legacy-cli: $(B)/tsnatd-legacy
	@tests/legacy/cli.sh $(B)/tsnatd-legacy

# The documents' links: relative links and anchors in README.md,
# CONTRIBUTING.md and doc/*.md resolve, and so do source paths in their
# code spans; README.md links every page of doc/ (guide and man pages).
link-check:
	@tests/docs/linkcheck.py --self-test
	@tests/docs/linkcheck.py . README.md CONTRIBUTING.md $(wildcard doc/*.md)

# The unit file as install writes it, with $(1) for @SBINDIR@.
UNIT_SED = sed 's|@SBINDIR@|$(1)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' systemd/tsnatd.service.in

# The unit's sandbox, offline: no root, no network, no running systemd.
# systemd-analyze verify (it only warns about an unknown key: any output
# fails; ExecStart= points at this build so that it exists), the exposure
# score (systemd-analyze security, at most UNIT_EXPOSURE_MAX tenths), and
# the sysusers.d file, dry-run into an empty root. Skipped without a
# systemd-analyze that has --offline (systemd 250 or later).
UNIT_EXPOSURE_MAX ?= 20
UNIT_CHECK := $(B)/unit-check
unit-check: $(B)/tsnatd
	@if ! systemd-analyze security --help 2>/dev/null | grep -q -- --offline; then \
		echo "unit-check: skipped (needs systemd-analyze with --offline, systemd 250+)"; \
		exit 0; fi; \
	set -e; rm -rf $(UNIT_CHECK); mkdir -p $(UNIT_CHECK)/root; \
	$(call UNIT_SED,$(CURDIR)/$(B)) >$(UNIT_CHECK)/tsnatd.service; \
	cp systemd/run-tsnatd-bpf.mount $(UNIT_CHECK)/; \
	systemd-analyze verify --man=no $(UNIT_CHECK)/tsnatd.service $(UNIT_CHECK)/run-tsnatd-bpf.mount \
		>$(UNIT_CHECK)/verify.txt 2>&1 || true; \
	if [ -s $(UNIT_CHECK)/verify.txt ]; then cat $(UNIT_CHECK)/verify.txt; \
		echo "unit-check: systemd-analyze verify complains"; exit 1; fi; \
	if ! systemd-analyze security --offline=yes --threshold=$(UNIT_EXPOSURE_MAX) \
		$(UNIT_CHECK)/tsnatd.service >$(UNIT_CHECK)/security.txt 2>&1; then \
		grep -E '✗|Overall' $(UNIT_CHECK)/security.txt || cat $(UNIT_CHECK)/security.txt; \
		echo "unit-check: exposure above $(UNIT_EXPOSURE_MAX) tenths"; exit 1; fi; \
	systemd-sysusers --dry-run --root=$(CURDIR)/$(UNIT_CHECK)/root \
		$(CURDIR)/systemd/tsnatd.sysusers >$(UNIT_CHECK)/sysusers.txt 2>&1 || \
		{ cat $(UNIT_CHECK)/sysusers.txt; exit 1; }; \
	echo "unit-check: verify clean, sysusers file valid, $$(grep -o 'Overall exposure level.*' $(UNIT_CHECK)/security.txt)"

# The unit tests under ThreadSanitizer (gcc: libtsan): test_engine runs the
# workers through reloads under load; a worker still reading a freed conf,
# or any other unordered access between threads, fails the run.
tsan:
	$(MAKE) --no-print-directory TSAN=1 unit

# libFuzzer needs clang. fuzz_packet: parse/strip/shift of arbitrary bytes;
# fuzz_model: packet sequences through process_packet() and the reference
# model of tests/model, which must agree (FUZZ_SECONDS each). Its seeds
# come from tests/fuzz/model_seeds.py.
FUZZ_BIN := build/fuzz/fuzz_packet
FUZZ_MODEL_BIN := build/fuzz/fuzz_model
fuzz: $(FUZZ_BIN) $(FUZZ_MODEL_BIN)
	mkdir -p build/fuzz/corpus build/fuzz/corpus-model
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=1600 \
		-print_final_stats=1 build/fuzz/corpus tests/fuzz/seeds
	$(FUZZ_MODEL_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-print_final_stats=1 build/fuzz/corpus-model tests/fuzz/model-seeds
$(FUZZ_BIN): tests/fuzz/fuzz_packet.c $(CORE:%=daemon/%.c)
	mkdir -p build/fuzz
	clang $(ALL_CPPFLAGS) $(PRIV_CPPFLAGS) $(WARN) -O1 -g -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o $@ $^
$(FUZZ_MODEL_BIN): tests/fuzz/fuzz_model.c $(MODEL_SRC) $(CORE:%=daemon/%.c)
	mkdir -p build/fuzz
	clang $(ALL_CPPFLAGS) $(PRIV_CPPFLAGS) -Itests/model $(WARN) -O1 -g \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $@ $^

# More input surfaces, each its own target (`make fuzz` runs them all):
# fuzz_nfq: datagrams through the NFQUEUE message parse and the verdicts
# nfq.c builds; fuzz_state: state-file bytes through state_restore();
# fuzz_conf: configuration text through conf_load() and --print-rules;
# fuzz_ctl: a control socket client's bytes through the framing, the
# request parse and every answer (JSON checked as JSON).
FUZZ_CC = clang $(ALL_CPPFLAGS) $(PRIV_CPPFLAGS) $(WARN) -O1 -g \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_NFQ_BIN := build/fuzz/fuzz_nfq
FUZZ_STATE_BIN := build/fuzz/fuzz_state
FUZZ_CONF_BIN := build/fuzz/fuzz_conf
FUZZ_CTL_BIN := build/fuzz/fuzz_ctl
.PHONY: fuzz-nfq fuzz-state fuzz-conf fuzz-ctl
fuzz: fuzz-nfq fuzz-state fuzz-conf fuzz-ctl
fuzz-nfq: $(FUZZ_NFQ_BIN)
	mkdir -p build/fuzz/corpus-nfq
	$(FUZZ_NFQ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
		-print_final_stats=1 build/fuzz/corpus-nfq tests/fuzz/nfq-seeds
fuzz-state: $(FUZZ_STATE_BIN)
	mkdir -p build/fuzz/corpus-state
	$(FUZZ_STATE_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-print_final_stats=1 build/fuzz/corpus-state tests/fuzz/state-seeds
fuzz-conf: $(FUZZ_CONF_BIN)
	mkdir -p build/fuzz/corpus-conf
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/fuzz/conf-lsan.supp \
	$(FUZZ_CONF_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-dict=tests/fuzz/conf.dict -print_final_stats=1 build/fuzz/corpus-conf tests/fuzz/conf-seeds
fuzz-ctl: $(FUZZ_CTL_BIN)
	mkdir -p build/fuzz/corpus-ctl
	$(FUZZ_CTL_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=1024 \
		-dict=tests/fuzz/ctl.dict -print_final_stats=1 build/fuzz/corpus-ctl tests/fuzz/ctl-seeds
$(FUZZ_NFQ_BIN): tests/fuzz/fuzz_nfq.c daemon/nfq.c $(CORE:%=daemon/%.c)
	mkdir -p build/fuzz
	$(FUZZ_CC) -o $@ $^ $(shell $(PKG_CONFIG) --libs libnetfilter_queue libmnl)
$(FUZZ_CTL_BIN): tests/fuzz/fuzz_ctl.c daemon/ctlreq.c daemon/control.c daemon/ctlsock.c daemon/rulescheck.c daemon/textbuf.c \
		 daemon/metrics.c daemon/stats.c daemon/log.c $(CORE:%=daemon/%.c)
	mkdir -p build/fuzz
	$(FUZZ_CC) -o $@ $^
$(FUZZ_STATE_BIN): tests/fuzz/fuzz_state.c daemon/state.c daemon/log.c $(CORE:%=daemon/%.c)
	mkdir -p build/fuzz
	$(FUZZ_CC) -o $@ $^
$(FUZZ_CONF_BIN): tests/fuzz/fuzz_conf.c daemon/conf.c daemon/confenum.c daemon/confcheck.c daemon/rules.c daemon/log.c \
		  $(CORE:%=daemon/%.c)
	mkdir -p build/fuzz
	$(FUZZ_CC) $(shell $(PKG_CONFIG) --cflags libconfig) -o $@ $^ $(shell $(PKG_CONFIG) --libs libconfig)

# The rewrite mode's kernel data path (tc BPF): clang builds the object,
# bpftool makes the skeleton header the daemon embeds (Debian: clang,
# libbpf-dev, bpftool). `make bpf` (root) runs it through the verifier and
# on hand-built packets (BPF_PROG_TEST_RUN).
BPF_CFLAGS = -O2 -g -target bpf -I/usr/include/$(shell gcc -dumpmachine) -Idaemon/bpf -Wall -Werror
BPFTOOL ?= $(firstword $(wildcard /usr/sbin/bpftool /sbin/bpftool) bpftool)
bpf: build/bpf/test_shift build/bench/bpfcost
	build/bpf/test_shift
	build/bench/bpfcost
build/bpf/shift.bpf.o: daemon/bpf/shift.bpf.c daemon/bpf/shift.h
	mkdir -p build/bpf
	clang $(BPF_CFLAGS) -c $< -o $@
build/bpf/shift.skel.h: build/bpf/shift.bpf.o
	$(BPFTOOL) gen skeleton $< name shift >$@.tmp && mv $@.tmp $@
build/bpf/nocsum/shift.bpf.o: daemon/bpf/shift.bpf.c daemon/bpf/shift.h
	mkdir -p build/bpf/nocsum
	clang $(BPF_CFLAGS) -DSHIFT_NO_CSUM -c $< -o $@
build/bpf/nocsum/shift.skel.h: build/bpf/nocsum/shift.bpf.o
	$(BPFTOOL) gen skeleton $< name shift >$@.tmp && mv $@.tmp $@
build/bpf/test_shift: tests/bpf/test_shift.c build/bpf/shift.skel.h tests/unit/pktbuild.c daemon/packet.c daemon/csum.c
	$(CC) -D_GNU_SOURCE $(WARN) -Wno-missing-prototypes -O2 -g -Iinclude -Idaemon -Idaemon/bpf \
		-Ibuild/bpf -Itests/unit -o $@ $(filter %.c,$^) \
		$(shell $(PKG_CONFIG) --cflags --libs libbpf cmocka libmnl libnetfilter_queue 2>/dev/null)

RUN_ENV = TSNATD=$(CURDIR)/$(B)/tsnatd TSNATD_LEGACY=$(CURDIR)/$(B)/tsnatd-legacy \
	  TSNATCTL=$(CURDIR)/$(B)/tsnatctl

# Tests by need. unit and fuzz need neither root nor the network (they
# open no socket; the control plane's syscalls are mocked); e2e needs root
# (network namespaces) and runs everything else: the end-to-end tests and
# the benchmark harness smoke run.
e2e: all $(BENCH_BINS) $(B)/tsnatd-nocsum
	$(RUN_ENV) tests/e2e/run.sh
	$(RUN_ENV) tests/e2e/ipv6.sh
	$(RUN_ENV) TSNATD_NOCSUM=$(CURDIR)/$(B)/tsnatd-nocsum tests/e2e/offload.sh
	$(RUN_ENV) tests/e2e/hardening.sh
	$(RUN_ENV) tests/e2e/control.sh
	$(RUN_ENV) tests/e2e/discovery.sh
	$(RUN_ENV) tests/e2e/rules.sh
	$(RUN_ENV) tests/e2e/reload.sh
	$(RUN_ENV) tests/e2e/labels.sh
	$(RUN_ENV) tests/e2e/ha.sh
	$(MAKE) --no-print-directory bench-smoke

demo: all
	$(RUN_ENV) tests/e2e/demo.sh

BENCH_BINS := build/bench/replay build/bench/syngen build/bench/nf-queue build/bench/bpfcost \
	      build/bench/noop.bpf.o
# The replay runs the batch path (nfq.c) with no socket: no engine.
REPLAY_OBJ := $(CORE_OBJ) $(addprefix $(B)/obj/,conf.o confenum.o confcheck.o log.o stats.o nfq.o)
build/bench/replay: tests/bench/replay.c $(REPLAY_OBJ) $(B)/tests/pktbuild.o | build/bench
	$(CC) $(ALL_CPPFLAGS) -Itests/unit $(ALL_CFLAGS) -Wno-missing-prototypes -o $@ $^ $(PKG_LIBS) -lpthread
build/bench/syngen: tests/bench/syngen.c | build/bench
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -o $@ $<
# The kernel data path's cost without traffic (BPF_PROG_TEST_RUN), and the
# no-op tc program the bench times beside it.
build/bench/noop.bpf.o: tests/bench/noop.bpf.c | build/bench
	clang $(BPF_CFLAGS) -c $< -o $@
build/bench/noop.skel.h: build/bench/noop.bpf.o
	$(BPFTOOL) gen skeleton $< name noop >$@.tmp && mv $@.tmp $@
build/bench/bpfcost: tests/bench/bpfcost.c build/bpf/shift.skel.h build/bench/noop.skel.h \
		tests/unit/pktbuild.c daemon/packet.c daemon/csum.c | build/bench
	$(CC) -D_GNU_SOURCE $(WARN) -Wno-missing-prototypes -O2 -g -Iinclude -Idaemon -Idaemon/bpf \
		-Ibuild/bpf -Ibuild/bench -Itests/unit -o $@ $(filter %.c,$^) \
		$(shell $(PKG_CONFIG) --cflags --libs libbpf libmnl libnetfilter_queue)
# The consumer that ships with libnetfilter_queue, built unmodified.
NFQ_EXAMPLE := /usr/share/doc/libnetfilter-queue-dev/examples/nf-queue.c
build/bench/nf-queue: $(NFQ_EXAMPLE) | build/bench
	$(CC) -O2 -o $@ $< $(shell $(PKG_CONFIG) --cflags --libs libnetfilter_queue libmnl)

bench: all $(BENCH_BINS)
	$(RUN_ENV) BENCH_DIR=$(CURDIR)/build/bench tests/bench/run.sh

# The harness end to end in about a minute, figures not judged (make check).
# Three consecutive make bench and tests/bench/compare.py over them: the
# same verdicts, the judged costs within +-10% (issue 22).
bench-stability: all $(BENCH_BINS)
	tests/bench/stability.sh 3

bench-smoke: all $(BENCH_BINS)
	mkdir -p build/bench-smoke
	$(RUN_ENV) BENCH_DIR=$(CURDIR)/build/bench BENCH_OUT=$(CURDIR)/build/bench-smoke \
		BENCH_REPS=1 BENCH_SECONDS=1 BENCH_CALLS=2000 BENCH_PROG_REPEAT=1000 BENCH_PROG_ROUNDS=5 BENCH_RETRIES=0 \
		tests/bench/run.sh >build/bench-smoke/tables.txt
	python3 tests/bench/check_results.py build/bench-smoke/results.json
	@echo "bench-smoke: the harness ran every part; tables in build/bench-smoke/tables.txt"

# Everything: the unit tests plain and under ASan+UBSan, a short fuzz run,
# the Debian package, e2e (root), then the package in a Debian 12 VM
# (vmtest: about 5 minutes under TCG with the image cached, 2 more to build it).
check: all unit bpf
	$(MAKE) --no-print-directory ASAN=1 UBSAN=1 unit
	$(MAKE) --no-print-directory tsan
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS)
	$(MAKE) --no-print-directory package-test
	$(MAKE) --no-print-directory e2e
	$(MAKE) --no-print-directory vmtest

# The Debian package (debian/, built by dpkg-buildpackage around make
# install) from this checkout, in a temporary directory: lintian, dpkg -i,
# the installed tsnatd -t and tsnatctl --help, dpkg --purge leaving
# nothing behind. Root; no network namespaces; about a minute.
.PHONY: package-test
package-test:
	tests/package/run.sh

# The package on the system it is built for: a Debian 12 VM (kernel 6.1,
# systemd, nftables only) booted with qemu, TCG without KVM (root; the
# image is built once, cached in build/vm/). tests/vm/run.sh says what it
# checks; VMTEST_NEGATIVE=1 runs the negative control, which must fail.
.PHONY: vmtest
vmtest: all build/bpf/test_shift
	tests/vm/run.sh

install: all
	install -D -m 0755 $(B)/tsnatd $(DESTDIR)$(SBINDIR)/tsnatd
	install -D -m 0755 $(B)/tsnatctl $(DESTDIR)$(SBINDIR)/tsnatctl
	install -D -m 0644 conf/tsnatd.conf $(DESTDIR)$(SYSCONFDIR)/tsnatd/tsnatd.conf.example
	test -e $(DESTDIR)$(SYSCONFDIR)/tsnatd/tsnatd.conf || \
		install -m 0644 conf/tsnatd.conf $(DESTDIR)$(SYSCONFDIR)/tsnatd/tsnatd.conf
	$(call UNIT_SED,$(SBINDIR)) >$(B)/tsnatd.service
	install -D -m 0644 $(B)/tsnatd.service $(DESTDIR)$(UNITDIR)/tsnatd.service
	install -D -m 0644 systemd/run-tsnatd-bpf.mount $(DESTDIR)$(UNITDIR)/run-tsnatd-bpf.mount
	install -D -m 0644 systemd/tsnatd.sysusers $(DESTDIR)$(SYSUSERSDIR)/tsnatd.conf
	@# The unit runs as the user tsnatd: create it now, unless staging.
	if [ -z "$(DESTDIR)" ]; then systemd-sysusers $(SYSUSERSDIR)/tsnatd.conf; fi
	install -D -m 0644 doc/tsnatd.8 $(DESTDIR)$(MANDIR)/man8/tsnatd.8
	install -D -m 0644 doc/tsnatctl.8 $(DESTDIR)$(MANDIR)/man8/tsnatctl.8
	install -D -m 0644 doc/tsnatd.conf.5 $(DESTDIR)$(MANDIR)/man5/tsnatd.conf.5

# The legacy-server emulator, for a lab server (tsnatd-legacy(8); Debian:
# the package tsnatd-tools). Not part of install: it drops packets by design.
install-tools: $(B)/tsnatd-legacy
	install -D -m 0755 $(B)/tsnatd-legacy $(DESTDIR)$(SBINDIR)/tsnatd-legacy
	install -D -m 0644 doc/tsnatd-legacy.8 $(DESTDIR)$(MANDIR)/man8/tsnatd-legacy.8

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/tsnatd-legacy $(DESTDIR)$(MANDIR)/man8/tsnatd-legacy.8
	rm -f $(DESTDIR)$(SBINDIR)/tsnatd $(DESTDIR)$(SBINDIR)/tsnatctl \
		$(DESTDIR)$(MANDIR)/man8/tsnatctl.8 $(DESTDIR)$(UNITDIR)/tsnatd.service \
		$(DESTDIR)$(UNITDIR)/run-tsnatd-bpf.mount \
		$(DESTDIR)$(SYSUSERSDIR)/tsnatd.conf \
		$(DESTDIR)$(MANDIR)/man8/tsnatd.8 $(DESTDIR)$(MANDIR)/man5/tsnatd.conf.5 \
		$(DESTDIR)$(SYSCONFDIR)/tsnatd/tsnatd.conf.example
	@echo "kept $(DESTDIR)$(SYSCONFDIR)/tsnatd/tsnatd.conf (your configuration) and the user tsnatd"

clean:
	rm -rf build

help:
	@echo "make [CC=clang] [ASAN=1] [UBSAN=1]  build into build/<variant>/"
	@echo "make unit | tsan | fuzz FUZZ_SECONDS=N  no root, no network (unit runs unit-check)"
	@echo "make unit-check                     the systemd unit: verify, exposure <= 2.0, sysusers"
	@echo "make alerts-check | link-check      alert rules and dashboard; the documents' links"
	@echo "make e2e                            root: end-to-end tests, bench-smoke"
	@echo "make check | demo | bench"
	@echo "make bench-stability               root: three make bench, compare.py over them"
	@echo "make man                            regenerate doc/tsnatd.conf.5"
	@echo "make install|uninstall [DESTDIR=..] [PREFIX=..]"
	@echo "make install-tools                  the legacy-server emulator, for a lab server"
	@echo "make package-test                   root: build, lintian, install and purge the .deb"
	@echo "make vmtest [VMTEST_NEGATIVE=1]     root: the .deb in a Debian 12 VM (qemu): unit, nft, offload on 6.1"

-include $(wildcard $(B)/obj/*.d $(B)/tests/*.d)
