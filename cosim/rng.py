"""Named random streams: every stream derives from the scenario seed and a name path.

A device's streams are named by its identity (group name, index within the group), so no two devices
of a World share one. Alternatives compared as `compare:` variants (one World each, same seed, same
groups) name the same streams, which gives them common random numbers.

A fleet has four streams per device, so their cost matters at city scale: `stream_seeds` derives the
seeds of a whole group at once, and `CompactStream` holds a few pre-drawn values instead of the
Mersenne-Twister state (see each for the figures). Both give exactly the draws `python_stream` gives.
"""

from __future__ import annotations

import random
import zlib

# the C generator under random.Random: the same draws, without the Python-level seed()
from _random import Random as _CRandom
from array import array

import numpy as np


def _key(names: tuple[object, ...]) -> tuple[int, ...]:
    return tuple(n if isinstance(n, int) else zlib.crc32(str(n).encode()) for n in names)


def seed_sequence(seed: int, *names: object) -> np.random.SeedSequence:
    """The SeedSequence of the stream `names` under the root `seed`."""
    return np.random.SeedSequence(entropy=seed, spawn_key=_key(names))


def numpy_stream(seed: int, *names: object) -> np.random.Generator:
    """A numpy Generator for vectorised draws."""
    return np.random.default_rng(seed_sequence(seed, *names))


def stream_seed(seed: int, *names: object) -> int:
    """The `random.Random` seed of the stream `names` (128 bits from its SeedSequence)."""
    return int.from_bytes(seed_sequence(seed, *names).generate_state(4, dtype=np.uint32).tobytes(), "little")


def python_stream(seed: int, *names: object) -> random.Random:
    """A `random.Random` for scalar draws in the hot path (~30 ns per draw, vs ~1 µs for numpy)."""
    return random.Random(stream_seed(seed, *names))


# -- the seeds of a whole group at once ------------------------------------------------------------
# numpy's SeedSequence (numpy/random/bit_generator.pyx: a hash of the entropy words into a pool of 4,
# then 4 output words), written over arrays: the stream (*names, i) for every i of a group in a few
# dozen numpy calls. Saves ~30 µs per stream, i.e. 120 µs per device (4 streams) of building a World:
# 1,000,000 devices' seeds in ~3 s instead of ~2 minutes.
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_MULT_L, _MIX_MULT_R = 0xCA01F9DD, 0x4973F715
_POOL = 4
_M32 = 0xFFFFFFFF


def _words(value: int) -> list[int]:
    """SeedSequence's uint32 words of a non-negative int (least significant first; 0 is one word)."""
    out = [value & _M32]
    value >>= 32
    while value:
        out.append(value & _M32)
        value >>= 32
    return out


def stream_seeds(seed: int, names: tuple[object, ...], count: int) -> list[int]:
    """The `random.Random` seeds of the streams (*names, i) for i in range(count): exactly the seed
    `python_stream(seed, *names, i)` uses, without one SeedSequence per stream."""
    if seed < 0:
        raise ValueError("seed must be non-negative")
    run = _words(seed)
    prefix = [w for n in _key(names) for w in _words(n)]
    if count > 2**32:  # the index is one uint32 word below 2**32 (a group is far smaller)
        raise ValueError("more than 2**32 streams")
    run += [0] * (_POOL - len(run))  # a spawned sequence pads the run entropy to the pool size
    # every word is the same for the whole group but the last (the index): the hash runs on ints
    # and only its last steps on an array
    entropy: list = [*run, *prefix, np.arange(count, dtype=np.uint64)]
    hash_const = _INIT_A

    def hashmix(value):
        nonlocal hash_const
        value = value ^ hash_const
        hash_const = (hash_const * _MULT_A) & _M32
        value = (value * hash_const) & _M32
        return value ^ (value >> 16)

    def mix(x, y):
        r = (_MIX_MULT_L * x - _MIX_MULT_R * y) & _M32
        return r ^ (r >> 16)

    pool = [hashmix(entropy[i] if i < len(entropy) else 0) for i in range(_POOL)]
    for src in range(_POOL):
        for dst in range(_POOL):
            if src != dst:
                pool[dst] = mix(pool[dst], hashmix(pool[src]))
    for src in range(_POOL, len(entropy)):
        for dst in range(_POOL):
            pool[dst] = mix(pool[dst], hashmix(entropy[src]))
    hash_const = _INIT_B
    state = []
    for k in range(4):
        value = pool[k % _POOL] ^ hash_const
        hash_const = (hash_const * _MULT_B) & _M32
        value = (value * hash_const) & _M32
        state.append(np.broadcast_to(value ^ (value >> 16), (count,)).astype(np.uint64))
    lo = (state[0] | (state[1] << 32)).tolist()
    hi = (state[2] | (state[3] << 32)).tolist()
    return [a | (b << 64) for a, b in zip(lo, hi, strict=True)]


# -- streams that hold a few values, not the generator ---------------------------------------------
# A `random.Random` is 2.5 KB (the Mersenne Twister's 624-word state), four per device: 10 KB of the
# 13.8 KB a device cost at 10,000 devices (tracemalloc). A device of a city-scale run draws a handful
# of values per stream, so a CompactStream keeps only its seed and the next few `random()` values:
# ~250 B. When they run out it re-seeds a generator, skips what was served and draws the next batch,
# twice as many each time (the skip stays a small share of the work); a stream that has served more
# than `_PROMOTE` values keeps its generator from then on (the memory of a `random.Random` again).
# Measured (quickstart, 3 sensings per device): 100,000 devices peak at 0.85 GB RSS (was 2.04 GB),
# 1,000,000 devices at 3.7 GB; a built device costs 1.8 KB of RSS (was 14 KB).
_FIRST = 8  # values drawn at a stream's first use
_MOST = 128  # most values one refill draws (1 KB)
_PROMOTE = 1024  # values served after which a stream keeps its generator (a skip would cost ~3 µs)
_EMPTY = array("d")
_Random = random.Random  # (inside the class, `random` is the method)


class CompactStream:
    """A `random.Random` of seed `seed` in ~250 B instead of 2.5 KB: the very same draws.

    `random()` and every method built on it alone (`uniform`, `expovariate`, `gauss`, ...) are served
    from pre-drawn values; the other draws (`getrandbits`, `choice`, `shuffle`, ...) switch the stream,
    exactly where it stands, to a real generator for the rest of its life.
    """

    __slots__ = ("_base", "_buf", "_direct", "_i", "_rng", "_seed", "gauss_next")

    def __init__(self, seed: int) -> None:
        self._seed = seed
        # pre-drawn random() values, [_i:] not served yet; the first batch now, so that seeding the
        # generator (~5 µs) is paid where `random.Random(seed)` pays it: when the World is built. The
        # C type seeds an int exactly as random.Random does, without its Python-level seed() (1.7 µs of
        # 6.4 µs per stream; 4 streams a device: ~7 s of a 1,000,000-device build)
        draw = _CRandom(seed).random
        self._buf = array("d", [draw() for _ in range(_FIRST)])
        self._i = 0
        self._base = 0  # values served before the current buffer
        self._rng: random.Random | None = None  # kept once the stream is a heavy user
        self._direct = False  # every draw goes to _rng (after a call other than random())
        self.gauss_next: float | None = None  # random.Random.gauss's second value

    def random(self) -> float:
        """The next value in [0, 1), as `random.Random(seed).random()` would give it."""
        i = self._i
        try:  # (a try costs nothing in 3.11: 50 ns per draw, vs 70 ns with a length test; C: 20 ns)
            value = self._buf[i]
        except IndexError:
            return self._refill()
        self._i = i + 1
        return value

    def _refill(self) -> float:
        if self._direct:
            return self._rng.random()
        served = self._base = self._base + self._i
        rng = self._rng
        if rng is None:
            rng = _at(self._seed, served, _CRandom)  # only random() is drawn from it
            if served >= _PROMOTE:
                self._rng = rng
        draw = rng.random
        self._buf = buf = array("d", [draw() for _ in range(min(max(served, _FIRST), _MOST))])
        self._i = 1
        return buf[0]

    def _real(self) -> random.Random:
        """The stream as a real generator, from where it stands (values pre-drawn are dropped)."""
        if not self._direct:
            self._rng = _at(self._seed, self._base + self._i)
            self._direct, self._buf, self._i = True, _EMPTY, 0
        return self._rng

    # random.Random's methods that draw only through self.random() (and self.gauss_next)
    uniform = _Random.uniform
    triangular = _Random.triangular
    normalvariate = _Random.normalvariate
    gauss = _Random.gauss
    lognormvariate = _Random.lognormvariate
    expovariate = _Random.expovariate
    vonmisesvariate = _Random.vonmisesvariate
    gammavariate = _Random.gammavariate
    betavariate = _Random.betavariate
    paretovariate = _Random.paretovariate
    weibullvariate = _Random.weibullvariate
    choices = _Random.choices

    # the others go to a real generator (no __getattr__: defining one makes every attribute access of
    # the class slower, 50 -> 150 ns per random())
    def getrandbits(self, k: int) -> int:
        return self._real().getrandbits(k)

    def randbytes(self, n: int) -> bytes:
        return self._real().randbytes(n)

    def randrange(self, *args, **kwargs) -> int:
        return self._real().randrange(*args, **kwargs)

    def randint(self, a: int, b: int) -> int:
        return self._real().randint(a, b)

    def choice(self, seq):
        return self._real().choice(seq)

    def shuffle(self, x) -> None:
        self._real().shuffle(x)

    def sample(self, population, k: int, **kwargs) -> list:
        return self._real().sample(population, k, **kwargs)

    def getstate(self):
        return self._real().getstate()


def _at(seed: int, served: int, kind: type = random.Random):
    """`kind(seed)` after `served` calls of random() (each takes two 32-bit words); `kind` the C type
    where only random() is drawn from the result (`random.Random` for every other method)."""
    rng = kind(seed)
    if served:
        rng.getrandbits(64 * served)
    return rng


# Fleets from this many devices draw from CompactStreams: the same values at 1/10 of the memory, but
# 50 ns per draw instead of 20 ns (and a re-seeding, ~5 µs, each time a stream's batch runs out).
COMPACT_FROM = 20_000


def stream_class(devices: int) -> type:
    """What a World of `devices` devices makes its per-device streams with (called with a seed from
    `stream_seeds`): `random.Random`, or `CompactStream` from `COMPACT_FROM` devices on."""
    return CompactStream if devices >= COMPACT_FROM else random.Random
