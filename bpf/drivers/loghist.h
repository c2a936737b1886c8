/* A log-linear latency histogram (HdrHistogram's layout, 6 bits of sub-bucket precision: <= 1.6% relative error):
 * values below 128 get their own bucket, above that each power of two is split into 64 buckets. Counts are
 * cumulative; an interval's histogram is the difference of two snapshots. */
#ifndef LAB_LOGHIST_H
#define LAB_LOGHIST_H
#include <string.h>

#define LH_MAX_MSB 44
#define LH_BUCKETS (128 + (LH_MAX_MSB - 6) * 64)

struct loghist { unsigned long long c[LH_BUCKETS]; };

static inline int lh_index(unsigned long long v)
{
	if (v < 128) return (int)v;
	int msb = 63 - __builtin_clzll(v);
	if (msb > LH_MAX_MSB) { msb = LH_MAX_MSB; v = (1ULL << (LH_MAX_MSB + 1)) - 1; }
	int shift = msb - 6;
	return 128 + (msb - 7) * 64 + (int)((v >> shift) - 64);
}

/* the middle of a bucket's value range */
static inline double lh_value(int idx)
{
	if (idx < 128) return idx;
	int msb = (idx - 128) / 64 + 7, sub = (idx - 128) % 64, shift = msb - 6;
	double lo = (double)((64ULL + sub) << shift);
	return lo + (double)(1ULL << shift) / 2;
}

static inline void lh_add(struct loghist *h, unsigned long long v) { h->c[lh_index(v)]++; }

/* percentile q (0..1) of the histogram cur - prev; returns -1 when it is empty */
static inline double lh_percentile(const struct loghist *cur, const struct loghist *prev, double q, unsigned long long *count)
{
	unsigned long long n = 0;
	for (int i = 0; i < LH_BUCKETS; i++) n += cur->c[i] - (prev ? prev->c[i] : 0);
	if (count) *count = n;
	if (!n) return -1;
	unsigned long long rank = (unsigned long long)(q * n + 0.999999999);
	if (rank < 1) rank = 1;
	unsigned long long acc = 0;
	for (int i = 0; i < LH_BUCKETS; i++) {
		acc += cur->c[i] - (prev ? prev->c[i] : 0);
		if (acc >= rank) return lh_value(i);
	}
	return lh_value(LH_BUCKETS - 1);
}
#endif
