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

// addShards registers the sharding flags. They set no scenario file
// field: one file serves every shard.
func (f *flagSet) addShards(add addFunc) {
	v := &f.v.shards
	fs := f.fs
	add("shard", "", "shard", func(n string) {
		fs.StringVar(&v.shard, n, "", "run shard I of N (I/N, I from 0): worker i runs in shard i mod N; needs --start-at")
	}, func(s *scenario.Scenario) error {
		if v.shards != 0 {
			return usagef("--shard and --shards: give one (--shards takes the index from $%s)", jobIndexEnv)
		}
		sh, err := scenario.ParseShard(v.shard)
		if err != nil {
			return usagef("--shard %s: %v", v.shard, err)
		}
		s.Shard = &sh
		return nil
	})
	add("shards", "", "shard", func(n string) {
		fs.IntVar(&v.shards, n, 0, "run one of N shards, the one $"+jobIndexEnv+" names (a Kubernetes Indexed Job sets it)")
	}, func(s *scenario.Scenario) error {
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
	})
	add("start-at", "", "start_at", func(n string) {
		fs.StringVar(&v.startAt, n, "", "release the workers at this wall-clock time (RFC 3339): the common start of a sharded run")
	}, func(s *scenario.Scenario) error {
		t, err := scenario.ParseStartAt(v.startAt)
		if err != nil {
			return asUsage(err)
		}
		s.StartAt = &t
		return nil
	})
}
