package main

import (
	"os"
	"strconv"

	"github.com/mqbench/mqbench/internal/scenario"
)

// shardFlags holds --shard, --shards and --start-at.
type shardFlags struct {
	shard, startAt string
	shards         int
}

// jobIndexEnv is the variable a Kubernetes Indexed Job sets in each pod:
// its completion index, which --shards N takes as this shard's index.
const jobIndexEnv = "JOB_COMPLETION_INDEX"

// noShardField says why the sharding flags set no scenario file field.
const noShardField = "one scenario file serves every shard, so each process takes its part from the command line"

// shardRunFlags are the sharding flags. They set no scenario file field
// (Scenario.Shard and StartAt have none); Validate reports their problems
// under the result's names shard and start_at.
func shardRunFlags() []runFlag {
	return []runFlag{
		{name: "shard", arg: "I/N", none: noShardField,
			usage: "run shard I of N (I/N, I from 0): worker i runs in shard i mod N; needs --start-at",
			own: func(f *flagSet) flagValue {
				return flagValue{ptr: &f.shards.shard, set: f.shards.applyShard, reports: "shard"}
			}},
		{name: "shards", arg: "N", none: noShardField,
			usage: "run one of N shards, the one $" + jobIndexEnv + " names (a Kubernetes Indexed Job sets it)",
			own: func(f *flagSet) flagValue {
				return flagValue{ptr: &f.shards.shards, set: f.shards.applyShards, reports: "shard"}
			}},
		{name: "start-at", arg: "TIME", none: noShardField,
			usage: "release the workers at this wall-clock time (RFC 3339): the common start of a sharded run",
			own: func(f *flagSet) flagValue {
				return flagValue{ptr: &f.shards.startAt, set: f.shards.applyStartAt, reports: "start_at"}
			}},
	}
}

// applyShard applies --shard I/N.
func (v *shardFlags) applyShard(s *scenario.Scenario) error {
	if v.shards != 0 {
		return usagef("--shard and --shards: give one (--shards takes the index from $%s)", jobIndexEnv)
	}
	sh, err := scenario.ParseShard(v.shard)
	if err != nil {
		return usagef("--shard %s: %v", v.shard, err)
	}
	s.Shard = &sh
	return nil
}

// applyShards applies --shards N, the index from $JOB_COMPLETION_INDEX.
func (v *shardFlags) applyShards(s *scenario.Scenario) error {
	if v.shard != "" {
		return usagef("--shard and --shards: give one (--shards takes the index from $%s)", jobIndexEnv)
	}
	raw, ok := os.LookupEnv(jobIndexEnv)
	if !ok {
		return usagef("--shards %d: $%s is not set (a Kubernetes Indexed Job sets it); give --shard I/%d instead", v.shards, jobIndexEnv, v.shards)
	}
	idx, err := strconv.Atoi(raw)
	if err != nil {
		return usagef("--shards %d: $%s=%q is not a shard index", v.shards, jobIndexEnv, raw)
	}
	sh, err := scenario.ParseShard(strconv.Itoa(idx) + "/" + strconv.Itoa(v.shards))
	if err != nil {
		return usagef("--shards %d with $%s=%s: %v", v.shards, jobIndexEnv, raw, err)
	}
	s.Shard = &sh
	return nil
}

// applyStartAt applies --start-at TIME.
func (v *shardFlags) applyStartAt(s *scenario.Scenario) error {
	t, err := scenario.ParseStartAt(v.startAt)
	if err != nil {
		return asUsage(err)
	}
	s.StartAt = &t
	return nil
}
