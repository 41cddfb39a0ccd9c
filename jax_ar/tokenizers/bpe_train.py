"""BPE merge learning with incremental pair-count updates.

Input: the unique pre-tokens ("words") as lists of base-token ids, with their
corpus counts.  Pair frequencies are counted once over the unique words
(weighted by count).  After each merge only the words that contain the merged
pair are rewritten, and only the pairs next to each merged occurrence change
((left, a) becomes (left, ab), (b, right) becomes (ab, right)).  No full recount happens.

Data structures
* ``pair_counts``: pair -> weighted count (exact at all times).
* ``where``: pair -> set of word ids that contain (or once contained) it.
* a max-heap of (count, tie key) with lazy deletion: a popped entry whose count
  is stale is pushed back with the current count.  This is valid because a
  merge only lowers the counts of existing pairs; the only pairs that gain
  count are brand-new pairs containing the new token, which are pushed once
  each, after the merge, with their final count.

Ties between equal counts go to the pair whose (left, right) ``order_key`` is
smallest -- the rule Hugging Face ``tokenizers`` uses, so with the GPT-2 byte
ordering the merges match theirs exactly.
"""
from __future__ import annotations

import heapq
from collections import defaultdict
from typing import Sequence


def learn_merges(words: Sequence[Sequence[int]], counts: Sequence[int], num_merges: int,
                 order_key: Sequence[int], min_count: int = 1) -> list[tuple[int, int]]:
    """Learn up to ``num_merges`` merges; token ``len(order_key) + i`` is merge ``i``.

    words: unique words as sequences of base ids in ``[0, len(order_key))``.
    counts: count of each word.  order_key: tie-break key of each base id.
    Stops early when no pair occurs at least ``min_count`` times.
    Returns the list of merged pairs ``(left_id, right_id)`` in merge order.
    """
    words = [list(w) for w in words]
    counts = list(counts)
    key = list(order_key)
    next_id = len(key)

    pair_counts: dict[tuple[int, int], int] = defaultdict(int)
    where: dict[tuple[int, int], set[int]] = defaultdict(set)
    for wid, w in enumerate(words):
        c = counts[wid]
        for p in zip(w, w[1:]):
            pair_counts[p] += c
            where[p].add(wid)

    heap = [(-c, key[a], key[b], a, b) for (a, b), c in pair_counts.items()]
    heapq.heapify(heap)

    merges: list[tuple[int, int]] = []
    while len(merges) < num_merges and heap:
        negc, _, _, a, b = heapq.heappop(heap)
        pair = (a, b)
        cur = pair_counts.get(pair, 0)
        if cur < min_count or cur <= 0:
            if cur == -negc:  # the true maximum is below the threshold: done
                break
            continue
        if cur != -negc:  # stale entry: re-queue with the current count
            heapq.heappush(heap, (-cur, key[a], key[b], a, b))
            continue

        new = next_id
        next_id += 1
        merges.append(pair)
        key.append(len(key))
        touched: set[tuple[int, int]] = set()
        for wid in where.pop(pair, ()):
            w = words[wid]
            n = len(w)
            c = counts[wid]
            # rewrite the word left to right without overlap; update only the
            # pairs next to each merged occurrence (as Hugging Face does):
            # (left, a) -> (left, new) and (b, right) -> (new, right).
            out: list[int] = []
            i = 0
            hit = False
            while i < n:
                if w[i] == a and i + 1 < n and w[i + 1] == b:
                    hit = True
                    if out:
                        left = out[-1]
                        p = (left, a)
                        pair_counts[p] -= c
                        p = (left, new)
                        pair_counts[p] += c
                        where[p].add(wid)
                        touched.add(p)
                    out.append(new)
                    i += 2
                    if i < n:
                        right = w[i]
                        pair_counts[(b, right)] -= c
                        p = (new, right)
                        pair_counts[p] += c
                        where[p].add(wid)
                        touched.add(p)
                else:
                    out.append(w[i])
                    i += 1
            if hit:
                words[wid] = out
        pair_counts.pop(pair, None)
        for p in touched:
            c = pair_counts[p]
            if c > 0:
                heapq.heappush(heap, (-c, key[p[0]], key[p[1]], p[0], p[1]))
    return merges
