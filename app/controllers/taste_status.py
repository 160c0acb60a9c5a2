"""The taste model's state in one line a user can act on (no Qt: plain logic, shared by the
rating panel and the Taste page)."""

from __future__ import annotations


def status_text(status: dict, likes: int, dislikes: int, state: str) -> str:
    """One line about the taste model that a user can act on."""
    if state == "training" or status.get("state") == "training":
        return "Model: training in the background…"
    if state == "failed":
        return "Model: the last training failed; the previous model is still in use."
    engine_state = status.get("state")
    if likes + dislikes == 0 and engine_state in (None, "untrained"):
        return "Model: rate a few tracks to teach MusicRec your taste."
    acc_txt = accuracy_text(status.get("accuracy") or {})
    if state == "stale" or engine_state == "stale":
        return ("Model: out of date after your latest ratings — retraining shortly"
                + (f"; it was {acc_txt}" if acc_txt else "") + ".")
    if engine_state in (None, "untrained"):
        return "Model: not trained yet — it trains by itself a moment after you rate."
    if engine_state == "cold-start" or status.get("mode") == "cold-start":
        return "Model: cold start — scoring by likeness to your likes and dislikes until it can train."
    n = status.get("ratings")
    return "Model: trained" + (f" on {n} ratings" if n else "") + (f"; {acc_txt}" if acc_txt else "") + "."


def accuracy_text(accuracy: dict) -> str:
    """Cross-validated accuracy in the two senses that matter: tracks by artists the user has
    rated (the artist's like-rate helps) and by new artists (only sound and tags help), with how
    many ratings each figure rests on. A figure is left out until there are enough ratings."""
    parts = []
    for key, who in (("rated_artists", "artists you have rated"), ("new_artists", "new artists")):
        s = accuracy.get(key)
        if s:
            parts.append(f"{s['accuracy_mean']:.0%} right for {who} (tested on {s['rows_scored']})")
    return "; ".join(parts)
