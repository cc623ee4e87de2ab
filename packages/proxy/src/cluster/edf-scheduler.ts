/**
 * Earliest-deadline-first scheduling (Envoy's EdfScheduler): each entry is due at `deadline`; picking
 * the earliest and re-adding it at `deadline + 1 / weight` gives every entry turns in proportion to its
 * weight at the time it was re-added. A binary heap; ties go to the entry added first.
 */
export class EdfScheduler<T> {
  private readonly heap: { deadline: number; seq: number; item: T }[] = [];
  private now = 0;
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Adds `item`, due one period (1 / weight) from the current time. */
  add(item: T, weight: number): void {
    const entry = { deadline: this.now + 1 / weight, seq: this.seq++, item };
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  /** Removes and returns the earliest entry; the scheduler's time moves to its deadline. */
  pick(): T | undefined {
    const h = this.heap;
    const top = h[0];
    if (!top) return undefined;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    this.now = top.deadline;
    return top.item;
  }
}

function before(a: { deadline: number; seq: number }, b: { deadline: number; seq: number }): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
}
