"""The EMI prior's prototype phrases: what each emotion sounds like when it is *said* (text channel).

A word window of the transcript is embedded with the text encoder; its ``says_<emotion>`` cue is its
highest cosine similarity to the emotion's phrases, mapped from :data:`SIMILARITY_RANGE` to [0, 1].
The phrases are written by hand from everyday English (no data was fitted): short, first-person or
second-person reactions of the kind people say while watching a clip they mimic. With
all-MiniLM-L6-v2, unrelated everyday sentences score about 0.0–0.25 and paraphrases 0.5–0.7.
"""

from __future__ import annotations

PROTOTYPES: dict[str, tuple[str, ...]] = {
    "Admiration": (
        "I really admire you.",
        "That is so impressive, what a talent.",
        "Wow, that was beautiful, truly remarkable.",
        "You are amazing, I look up to you.",
        "What a brilliant, inspiring performance.",
    ),
    "Amusement": (
        "Ha ha, that is so funny.",
        "That joke was hilarious.",
        "You crack me up, I can't stop laughing.",
        "That's ridiculous, how funny.",
        "Oh that's amusing, I'm laughing.",
    ),
    "Determination": (
        "I will not give up.",
        "We are going to do this, no matter what.",
        "I am determined to finish this.",
        "Nothing will stop me, I will keep going.",
        "Let's get it done, we can win this.",
    ),
    "Empathic Pain": (
        "I am so sorry, that must hurt so much.",
        "That is heartbreaking, I feel your pain.",
        "Oh no, that is terrible, I'm so sad for you.",
        "It hurts to see you suffer.",
        "My condolences, I'm sorry for your loss.",
    ),
    "Excitement": (
        "This is so exciting!",
        "I can't wait, let's go!",
        "Yes! This is incredible, I'm thrilled!",
        "Oh my god, this is awesome!",
        "I am so pumped for this!",
    ),
    "Joy": (
        "I am so happy.",
        "This makes me feel wonderful and glad.",
        "What a lovely, joyful day.",
        "I'm delighted, everything is great.",
        "I feel so cheerful and content.",
    ),
}

SIMILARITY_RANGE: tuple[float, float] = (0.2, 0.6)
"""Cosine similarity mapped to 0 and to 1 (clipped) for the ``says_<emotion>`` cues."""

VALENCE_RANGE: tuple[float, float] = (0.3, 0.9)
"""|VADER compound| mapped to 0 and to 1 for the ``positive`` / ``negative`` cues (mild politeness such
as "please" scores about 0.3, so it counts for nothing)."""


def cue_name(emotion: str) -> str:
    """The similarity cue of ``emotion``: ``says_admiration``, ``says_empathic_pain`` …"""
    return "says_" + emotion.lower().replace(" ", "_")
