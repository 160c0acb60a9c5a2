"""The settings area of the facade: the MusicBrainz connection (server, pace, contact address,
offline) and the cover-art cache that shares its settings."""

from __future__ import annotations


class SettingsArea:
    MB_SETTINGS_KEYS = ("host", "rate", "contact", "offline")

    @staticmethod
    def valid_contact(contact: str | None) -> bool:
        """Whether `contact` can be sent to MusicBrainz as the user's contact: an e-mail address or
        a web page (http/https). The app's settings and the CLI check with this one rule."""
        from musicrec_engine.online.musicbrainz import valid_contact

        return valid_contact(contact)

    def musicbrainz_settings(self, **overrides):
        """Saved settings < MUSICREC_MB_HOST/RATE/CONTACT < overrides (None = not given)."""
        import json

        from musicrec_engine.online import musicbrainz as mbz

        f = self.paths.config / "musicbrainz.json"
        saved = {}
        if f.is_file():
            try:
                saved = {k: v for k, v in json.loads(f.read_text()).items() if k in self.MB_SETTINGS_KEYS}
            except (OSError, ValueError):
                saved = {}  # a damaged settings file means defaults, not a crash
        return mbz.Settings.from_env(mbz.Settings(**saved), **overrides)

    def save_musicbrainz_settings(self, **values) -> None:
        import json
        import os

        unknown = set(values) - set(self.MB_SETTINGS_KEYS)
        if unknown:
            raise ValueError(f"unknown MusicBrainz setting(s): {', '.join(sorted(unknown))}")
        f = self.paths.config / "musicbrainz.json"
        current = json.loads(f.read_text()) if f.is_file() else {}
        current.update({k: v for k, v in values.items() if v is not None})
        f.with_suffix(".tmp").write_text(json.dumps(current, indent=1))
        os.replace(f.with_suffix(".tmp"), f)

    def musicbrainz(self, **overrides):
        from musicrec_engine.online.musicbrainz import MusicBrainz

        return MusicBrainz(self.musicbrainz_settings(**overrides), cache=self.library)

    def cover_art(self):
        with self._lock:
            if self._cover_art is None:
                from musicrec_engine.online.coverart import CoverArt

                s = self.musicbrainz_settings()
                self._cover_art = CoverArt(self.paths.cache / "covers", interval=s.interval, contact=s.contact)
            return self._cover_art
