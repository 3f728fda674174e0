"""Are --key, --mode and --metre honoured? Compose tunes for random requests, read each back with
music21 and count: the key (K:/key signature) and the time signature as asked, every note in the
mode's scale, the last note on the tonic, and how often music21's own key analysis of the notes
names the requested tonic (informative: a dorian tune is often analysed as its relative major).

    python benchmarks/key_metre_honoured.py --num 100 \
        --checkpoint seqgan_music/assets/nottingham-beat-small.pt
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import music21
import numpy as np
import torch

import seqgan_music as sm
from seqgan_music.music.io.score import MODE_STEPS, tonic_pitch_class

TONICS = ["C", "G", "D", "A", "E", "F", "Bb", "Eb"]
METRES = ["4/4", "6/8", "3/4", "2/4"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--num", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(args.seed)
    model = sm.load_checkpoint(args.checkpoint)
    counts = dict.fromkeys(["key", "metre", "in_scale", "ends_on_tonic", "analysis_tonic"], 0)
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.num):
            key, mode = str(rng.choice(TONICS)), str(rng.choice(list(MODE_STEPS)))
            metre = str(rng.choice(METRES))
            out = Path(tmp) / f"t{i}.abc"
            sm.compose(out, model=model, seed=args.seed + i, form="AABB", key=key, mode=mode,
                       metre=metre)  # fmt: skip
            stream = music21.converter.parse(out)
            tonic = tonic_pitch_class(key)
            k = stream.recurse().getElementsByClass("Key")[0]
            ts = stream.recurse().getElementsByClass("TimeSignature")[0]
            notes = list(stream.flatten().notes)
            scale = {(tonic + s) % 12 for s in MODE_STEPS[mode]}
            counts["key"] += (k.tonic.pitchClass, k.mode) == (tonic, mode)
            counts["metre"] += f"{ts.numerator}/{ts.denominator}" == metre
            counts["in_scale"] += all(n.pitch.pitchClass in scale for n in notes)
            counts["ends_on_tonic"] += notes[-1].pitch.pitchClass == tonic
            counts["analysis_tonic"] += stream.analyze("key").tonic.pitchClass == tonic
    print(f"{args.num} tunes (AABB, 8-bar parts), random key/mode/metre requests:")
    for name, n in counts.items():
        print(f"| {name} | {n / args.num:.2f} |")


if __name__ == "__main__":
    main()
