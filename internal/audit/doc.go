// Package audit accounts for every message of a run: which the broker
// took (confirmed, or received on a channel it closed cleanly), which each
// queue delivered (once, twice, out of order, redelivered), which were
// left, which the broker dropped — with the evidence that says so — and
// so which it lost.
//
// Its memory follows what is in doubt, not the run's length: per
// (producer, queue) a Track keeps a watermark below which every message
// is accounted for, a window for what arrived out of order, and a list of
// gaps that never filled; a producer keeps its confirms as ranges. A run
// of a billion in-order messages costs the same few hundred bytes per
// (producer, queue) as a run of ten.
package audit
