"""Reference extractors for the extraction benches, run on the same pages in the same run.

    python3 bench/reference-extractors.py resiliparse|readability-lxml < pages.jsonl > texts.jsonl

Reads {"html": ...} lines, writes {"text": ...} lines in the same order, and prints the
seconds spent extracting (input and output excluded) on the last line of stderr.
Install: `pip install --no-deps resiliparse` (its fastwarc dependency is not needed for
extraction); Debian's `python3-readability` for readability-lxml.
"""
import json
import sys
import time


def engine(name):
    if name == "resiliparse":
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.html import HTMLTree

        return lambda html: extract_plain_text(HTMLTree.parse(html), main_content=True)
    if name == "readability-lxml":
        import lxml.html
        from readability import Document

        def run(html):
            try:
                return lxml.html.fromstring(Document(html).summary()).text_content()
            except Exception:
                return ""

        return run
    raise SystemExit(f"unknown engine {name}")


def main():
    extract = engine(sys.argv[1])
    pages = [json.loads(line)["html"] for line in sys.stdin]
    started = time.perf_counter()
    texts = [extract(html) for html in pages]
    seconds = time.perf_counter() - started
    for text in texts:
        sys.stdout.write(json.dumps({"text": text}) + "\n")
    sys.stderr.write(f"{seconds}\n")


main()
