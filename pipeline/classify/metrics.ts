/** Classifier metrics for the quality benches and `quality train`'s hold-out report. */

/** ROC AUC: the probability that a random positive scores above a random negative (ties count half). */
export function rocAuc(scores: readonly number[], labels: readonly number[]): number {
  const order = scores.map((s, i) => [s, labels[i]] as const).sort((a, b) => a[0] - b[0]);
  let positives = 0;
  let negatives = 0;
  let rankSum = 0;
  // Mann-Whitney U with average ranks for tied scores.
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && order[j][0] === order[i][0]) j++;
    const rank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) {
      if (order[k][1] === 1) {
        positives++;
        rankSum += rank;
      } else negatives++;
    }
    i = j;
  }
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Share of documents on the right side of `threshold` (score >= threshold means positive). */
export function accuracy(scores: readonly number[], labels: readonly number[], threshold: number): number {
  let right = 0;
  scores.forEach((s, i) => {
    if ((s >= threshold ? 1 : 0) === labels[i]) right++;
  });
  return scores.length === 0 ? Number.NaN : right / scores.length;
}

/** Mean and sample standard deviation (n - 1; 0 for fewer than two values), e.g. of per-fold scores. */
export function meanSd(values: readonly number[]): { mean: number; sd: number } {
  if (values.length === 0) return { mean: Number.NaN, sd: Number.NaN };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (values.length < 2) return { mean, sd: 0 };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
  return { mean, sd: Math.sqrt(variance) };
}
