# etcdsim — see README.md. Every target runs from a fresh clone with Go alone.
GO      ?= go
SEEDS   ?= 2000
BIN     := bin/etcdsim

.PHONY: run test vet build fuzz bench gobench soak soak-long soak-churn repro determinism replay seeds swarm table pgo scaling

build:
	$(GO) build -o $(BIN) ./cmd/etcdsim

# The main job: the correct model and every bug mode over seeds 1..50 in
# worker processes, ending in one table (mode, seeds, detected, first
# invariant, median time to detect).
run: build
	./$(BIN) table --seeds 1..50

# The detection table of README.md, over seeds 1..1000 per mode.
table: build
	./$(BIN) table --seeds 1..1000 --readme README.md

# A swarm: make swarm RANGE=1..1000 BUG=auth-ci
RANGE ?= 1..200
BUG   ?= none
swarm: build
	./$(BIN) swarm --seeds $(RANGE) --bug $(BUG) --out out/seeds

# Unit, property and regression tests, 300 soak worlds, the seeds corpus, and the determinism check;
# the farming recipe of docs/swarm.md on two local shards; the findings against etcd's own WAL code.
test: vet build
	$(GO) test -count=1 -timeout 15m ./...
	bash scripts/farm-check.sh $(BIN)
	$(MAKE) repro

# docs/findings.md's wal-snapshot-gap against etcd's real WAL package, v3.6.16 and v3.7.3 (each its
# own module under repro/, so etcd's dependencies stay out of etcdsim's go.mod).
repro:
	cd repro/etcdwal36 && $(GO) vet ./... && $(GO) test -count=1 ./...
	cd repro/etcdwal37 && $(GO) vet ./... && $(GO) test -count=1 ./...

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...

# The same 200 seeds twice in one process and once more in a second process; and 60 churn worlds.
determinism:
	$(GO) test -count=1 ./sim -run '^TestDeterminism(Churn)?$$' -v -args -determinism.seeds=200 -determinism.churn=60

# The correct model over seeds 1..$(SEEDS) each of 1, 3 and 5 members (and the auth workload),
# 60 s simulated each, in worker processes; failing seeds are written to out/soak.
soak: build
	./$(BIN) swarm --seeds 1..$(SEEDS) --members 1 --out out/soak
	./$(BIN) swarm --seeds 1..$(SEEDS) --members 3 --out out/soak
	./$(BIN) swarm --seeds 1..$(SEEDS) --members 5 --out out/soak
	./$(BIN) swarm --seeds 1..$(SEEDS) --members 3 --workload auth --out out/soak

# The correct model with membership churn over seeds 1..$(SEEDS): 3 members around 3 voters and 5 around 5,
# each with the seed's auth knob and with the auth workload, and a lone member growing to 3.
soak-churn: build
	./$(BIN) swarm --seeds 1..$(SEEDS) --members 3 --churn 3 --out out/soak
	./$(BIN) swarm --seeds 1..$(SEEDS) --members 3 --churn 3 --workload auth --out out/soak
	./$(BIN) swarm --seeds 1..$(SEEDS) --members 5 --churn 5 --out out/soak
	./$(BIN) swarm --seeds 1..$(SEEDS) --members 5 --churn 5 --workload auth --out out/soak
	./$(BIN) swarm --seeds 1..$(SEEDS) --members 1 --churn 3 --out out/soak

# The long soak that finds one-in-ten-thousand events: 50,000 default seeds and 10,000 each of
# 1 member, 5 members, auth and compaction, one `swarm --shard K/N` per core, merged; about an hour
# on 2 cores. SCALE=10 runs a tenth of it. Failing seeds are written to out/soak-long/seeds.
SCALE ?= 1
soak-long: build
	bash scripts/soak-long.sh ./$(BIN) out/soak-long $(SCALE)

# Coverage-guided fuzzing of the parsers a user feeds (fault lines, seeds, requests).
fuzz:
	$(GO) test ./sim -run '^$$' -fuzz '^FuzzParseFaults$$' -fuzztime 30s
	$(GO) test ./nodes -run '^$$' -fuzz '^FuzzDecodeRequest$$' -fuzztime 30s

# BENCHMARKS.md: worlds of 1..7 members, 10..600 s, checks on and off, against bare raft; one core.
# Built with the profile the etcdsim binary is built with (cmd/etcdsim/default.pgo).
bench:
	$(GO) test -count=1 -timeout 30m -pgo=cmd/etcdsim/default.pgo ./sim -run '^TestBenchTable$$' -v -args -benchtable ../BENCHMARKS.md

# Refresh the profile-guided optimization profile of the etcdsim binary
# from 60 default worlds (go build picks cmd/etcdsim/default.pgo up).
pgo:
	$(GO) test -count=1 ./sim -run '^$$' -bench '^BenchmarkWorld60$$' -benchtime 240x -cpuprofile cmd/etcdsim/default.pgo -o /tmp/etcdsim-pgo.test

# How a swarm scales with its workers: seeds/s of --parallel 1 and --parallel $(P) over the
# same seeds, interleaved rounds, and their ratio (read it on a quiet machine).
P ?= 2
ROUNDS ?= 3
scaling: build
	bash scripts/scaling.sh ./$(BIN) 1..300 $(ROUNDS) $(P)

# The Go benchmarks of every package (compare runs with benchstat).
gobench:
	$(GO) test ./... -run '^$$' -bench . -benchmem

replay: build
	./$(BIN) replay --seed $(SEED) -v

# Search seeds for every bug mode and rewrite the regression corpus in seeds/, with the first
# default seed to hit each rare coverage probe.
seeds:
	$(GO) test -count=1 ./seeds -run '^TestGenerate(Coverage)?$$' -v -args -generate

# Render the failure page of a commit-atomicity and a linearizability failure and a clean page in
# headless Chromium (Debian package chromium, installed when missing and run as root), save
# screenshots to /tmp/etcdsim-timeline*.png, and check that the story, the legend, the lanes and the
# next commands are present and visible.
.PHONY: html-check
html-check:
	GO=$(GO) bash scripts/render-check.sh
