// Decodes every histogram of an mqbench result with an independent
// HdrHistogram implementation (hdr-histogram-js, a port of the Java
// library) and checks that it holds what mqbench printed beside it: the
// count exactly; min, max and the percentiles up to HdrHistogram's own
// rounding (below). Run by scripts/hdr-check.sh, which installs the library:
//
//   node scripts/hdr-check.js RESULT.json
//
// Exits 1, naming each disagreement, when a histogram does not decode or
// disagrees; 2 on bad usage.
"use strict";

const fs = require("fs");
const hdr = require("hdr-histogram-js");

// Percentile conventions. Both libraries report a percentile as the highest
// value equivalent to the sample at that rank (the top of its bucket: at 3
// significant digits a bucket spans up to 0.1% of its value), so a value
// from one compares with the other's bucket range, never by ==. They also
// round the rank differently: hdrhistogram-go takes round(q·n), the Java
// library and this port ceil(q·n), one sample apart. mqbench's value must lie
// between the bottom of the bucket of the sample one rank below this port's
// rank and the top of the bucket of the sample at it.
function checkPercentile(h, what, q, got, problems) {
  const n = h.totalCount;
  const at = h.getValueAtPercentile(q);
  const below = q - 100 / n > 0 ? h.getValueAtPercentile(q - 100 / n) : at;
  const lo = h.lowestEquivalentValue(below);
  const hi = h.highestEquivalentValue(at);
  if (!(got >= lo && got <= hi)) {
    problems.push(`${what}: mqbench says ${got}, hdr-histogram-js ${at} (allowed ${lo}..${hi})`);
  }
}

// checkEquivalent: a value reported as its bucket's bottom (min) or top (max)
// lies within the bucket of the decoded one.
function checkEquivalent(h, what, decoded, got, problems) {
  const lo = h.lowestEquivalentValue(decoded);
  const hi = h.highestEquivalentValue(decoded);
  if (!(got >= lo && got <= hi)) {
    problems.push(`${what}: mqbench says ${got}, hdr-histogram-js ${decoded} (bucket ${lo}..${hi})`);
  }
}

function decode(what, enc, problems) {
  if (typeof enc !== "string" || !enc.startsWith("HISTFAAA")) {
    problems.push(`${what}: not HdrHistogram's compressed form (starts ${JSON.stringify(String(enc).slice(0, 12))}, want HISTFAAA…)`);
    return null;
  }
  try {
    // 64-bit counts: a long run's buckets may pass 2^31.
    return hdr.decodeFromCompressedBase64(enc, 64);
  } catch (e) {
    problems.push(`${what}: hdr-histogram-js cannot decode it: ${e.message}`);
    return null;
  }
}

const summaryPercentiles = [["p50_us", 50], ["p75_us", 75], ["p90_us", 90], ["p95_us", 95], ["p99_us", 99], ["p999_us", 99.9]];

function checkSummary(kind, s, problems) {
  const what = `latency.${kind}`;
  const h = decode(what, s.hdr, problems);
  if (!h) return 0;
  if (h.totalCount !== s.count) {
    problems.push(`${what}: count ${s.count} in the result, ${h.totalCount} decoded`);
    return 1;
  }
  checkEquivalent(h, `${what}.min_us`, h.getValueAtPercentile(0), s.min_us, problems); // the first sample's, 0 included
  checkEquivalent(h, `${what}.max_us`, h.maxValue, s.max_us, problems);
  for (const [field, q] of summaryPercentiles) {
    checkPercentile(h, `${what}.${field}`, q, s[field], problems);
  }
  console.log(`hdr-check: ${what}: ${h.totalCount} samples, p99 ${s.p99_us} µs (hdr-histogram-js ${h.getValueAtPercentile(99)})`);
  return 1;
}

const intervalPercentiles = [
  ["end_to_end", "e2e_p50_us", 50], ["end_to_end", "e2e_p99_us", 99],
  ["confirm", "confirm_p99_us", 99], ["rpc", "rpc_p50_us", 50], ["rpc", "rpc_p99_us", 99],
];

function checkIntervals(intervals, problems) {
  let n = 0;
  (intervals || []).forEach((iv, i) => {
    for (const [kind, field, q] of intervalPercentiles) {
      const enc = iv.hdr && iv.hdr[kind];
      if (enc === undefined || iv[field] === null || iv[field] === undefined) continue;
      const h = decode(`intervals[${i}].hdr.${kind}`, enc, problems);
      if (!h) continue;
      checkPercentile(h, `intervals[${i}].${field}`, q, iv[field], problems);
      n++;
    }
  });
  return n;
}

function main() {
  if (process.argv.length !== 3) {
    console.error("usage: node scripts/hdr-check.js RESULT.json");
    process.exit(2);
  }
  const file = process.argv[2];
  let r;
  try {
    r = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    console.error(`hdr-check: ${file}: ${e.message}`);
    process.exit(2);
  }
  if (r.schema !== "mqbench.result/v1") {
    console.error(`hdr-check: ${file}: schema ${JSON.stringify(r.schema)}, want "mqbench.result/v1"`);
    process.exit(2);
  }
  const problems = [];
  let summaries = 0;
  for (const [kind, s] of Object.entries(r.latency || {})) {
    if (s) summaries += checkSummary(kind, s, problems);
  }
  const intervals = checkIntervals(r.intervals, problems);
  if (summaries === 0) {
    problems.push("the result holds no latency histogram: nothing was checked");
  }
  if (problems.length > 0) {
    for (const p of problems) console.error(`hdr-check: ${file}: ${p}`);
    process.exit(1);
  }
  console.log(`hdr-check: ${file}: ${summaries} latency histograms and ${intervals} interval percentiles agree with hdr-histogram-js`);
}

main();
