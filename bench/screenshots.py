"""The report as a reader sees it: headless Chromium screenshots of results/report.html at a
desktop width (1400 px) and a phone's (400 px), at the top and at a few sections (each shown
through a page that frames the report at its anchor: Chromium's --screenshot does not scroll
to a fragment). PNGs go to build/screenshots/. `make` first.
Usage: .venv/bin/python bench/screenshots.py   (make screenshots)
"""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "screenshots"
WIDTHS = {1400: 1800, 400: 860}  # width -> window height (a phone's screen is about 400 x 860 CSS px)
ANCHORS = (
    "top",
    "benefit-table3",
    "benefit-comparison",
    "inequality-multilevel",
    "medical_return-figure-figure2",
    "provenance",
)


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def main() -> int:
    browser = chromium()
    report = ROOT / "results" / "report.html"
    if browser is None:
        print("missing: chromium (Debian package chromium)")
        return 1
    if not report.exists():
        print("missing: results/report.html (run make first)")
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    for width, height in WIDTHS.items():
        for anchor in ANCHORS:
            frame = OUT / f"frame-{anchor}.html"
            frame.write_text(
                '<!DOCTYPE html><html><body style="margin:0">'
                f'<iframe src="{report.as_uri()}#{anchor}" style="border:0;width:100vw;height:100vh"></iframe>'
                "</body></html>"
            )
            png = OUT / f"report-{width}-{anchor}.png"
            subprocess.run(
                [
                    browser,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--hide-scrollbars",
                    "--allow-file-access-from-files",
                    "--virtual-time-budget=5000",
                    f"--window-size={width},{height}",
                    f"--screenshot={png}",
                    frame.as_uri(),
                ],
                capture_output=True,
                timeout=120,
                check=True,
            )
            frame.unlink()
            print(png.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
