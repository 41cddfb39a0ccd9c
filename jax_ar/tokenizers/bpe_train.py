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

    Implementation note: a word is held as a ``str`` whose characters are
    ``chr(token_id)`` and a pair as a 2-character ``str``, so rewriting a word
    is one C-level ``str.replace`` (left to right, non-overlapping -- the BPE
    rule) and membership tests are ``in``.
    """
    key = list(order_key)
    next_id = len(key)
    words_s = ["".join(map(chr, w)) for w in words]
    counts = list(counts)

    pair_counts: dict[str, int] = defaultdict(int)
    where: dict[str, set[int]] = defaultdict(set)
    for wid, w in enumerate(words_s):
        c = counts[wid]
        for p in map(str.__add__, w, w[1:]):
            pair_counts[p] += c
            where[p].add(wid)

    heap = [(-c, key[ord(p[0])], key[ord(p[1])], p) for p, c in pair_counts.items()]
    heapq.heapify(heap)

    merges: list[tuple[int, int]] = []
    while len(merges) < num_merges and heap:
        negc, ka, kb, pair = heapq.heappop(heap)
        cur = pair_counts.get(pair, 0)
        if cur < min_count or cur <= 0:
            if cur == -negc:  # the true maximum is below the threshold: done
                break
            continue
        if cur != -negc:  # stale entry: re-queue with the current count
            heapq.heappush(heap, (-cur, ka, kb, pair))
            continue

        a, b = pair[0], pair[1]
        x = chr(next_id)
        next_id += 1
        merges.append((ord(a), ord(b)))
        key.append(len(key))
        touched: set[str] = set()
        for wid in where.pop(pair, ()):
            w = words_s[wid]
            if pair not in w:  # stale membership: the pair left this word earlier
                continue
            nw = w.replace(pair, x)
            words_s[wid] = nw
            c = counts[wid]
            last = len(nw) - 1
            # Update only the pairs next to each new token x (as Hugging Face does):
            # (left, a) -> (left, x) and (b, right) -> (x, right).  Where x follows x,
            # the original left neighbour was b: (b, a) -> (x, x).
            j = nw.find(x)
            while j >= 0:
                if j > 0:
                    left = nw[j - 1]
                    pair_counts[(b if left == x else left) + a] -= c
                    p = left + x
                    pair_counts[p] += c
                    where[p].add(wid)
                    touched.add(p)
                if j < last:
                    right = nw[j + 1]
                    if right != x:
                        pair_counts[b + right] -= c
                        p = x + right
                        pair_counts[p] += c
                        where[p].add(wid)
                        touched.add(p)
                j = nw.find(x, j + 1)
        pair_counts.pop(pair, None)
        for p in touched:
            c = pair_counts[p]
            if c > 0:
                heapq.heappush(heap, (-c, key[ord(p[0])], key[ord(p[1])], p))
    return merges
