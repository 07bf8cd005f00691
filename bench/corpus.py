"""A synthetic bilingual corpus of N entries, shaped like the real one, for benchmarks and stress tests.

python bench/corpus.py N FOLDER writes FOLDER/content, FOLDER/seeds and uses the repository's layouts.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

WORDS_ES = [
    "seguridad",
    "cooperación",
    "frontera",
    "acuerdo",
    "gobierno",
    "ministerio",
    "reunión",
    "diálogo",
    "compromiso",
    "informe",
    "tráfico",
    "control",
    "comercio",
    "soberanía",
    "política",
    "agencia",
    "comisión",
    "programa",
    "estrategia",
    "resultado",
]
WORDS_EN = [
    "security",
    "cooperation",
    "border",
    "agreement",
    "government",
    "ministry",
    "meeting",
    "dialogue",
    "commitment",
    "report",
    "trafficking",
    "control",
    "trade",
    "sovereignty",
    "policy",
    "agency",
    "commission",
    "programme",
    "strategy",
    "result",
]
PARAGRAPHS = 200
SHARES = {"events": 0.6, "people": 0.2, "agreements": 0.1, "terms": 0.1}


def _sentence(rng: random.Random, words: list[str], length: int) -> str:
    chosen = [rng.choice(words) for _ in range(length)]
    return " ".join(chosen).capitalize() + "."


def _body(rng: random.Random, words: list[str], refs: list[str]) -> str:
    """About 150 words: two paragraphs, a list, and links to other entries."""
    first = " ".join(_sentence(rng, words, 12) for _ in range(4))
    items = "\n".join(f"- {_sentence(rng, words, 6)} [[{ref}]]" for ref in refs[:3])
    second = " ".join(_sentence(rng, words, 12) for _ in range(4))
    return f"{first}\n\n{items}\n\n{second} [Más](https://example.org/{rng.randrange(1000)})."


def _block(text: str, indent: str = "    ") -> str:
    return "|\n" + "\n".join(indent + line if line else "" for line in text.splitlines())


def write_corpus(n: int, root: Path, seed: int = 1) -> dict[str, int]:
    """Write a project of about n entries under root; return the count per kind."""
    rng = random.Random(seed)
    content = root / "content"
    counts = {kind: max(1, round(n * share)) for kind, share in SHARES.items()}
    for folder in (*counts, "sources", "organizations"):
        (content / folder).mkdir(parents=True, exist_ok=True)
    (root / "seeds").mkdir(parents=True, exist_ok=True)
    paragraphs = [_sentence(rng, WORDS_ES, 20) for _ in range(PARAGRAPHS)]
    (root / "seeds" / "source.txt").write_text("\n\n".join(paragraphs) + "\n", "utf-8")
    (content / "site.yml").write_text(
        "id: corpus\nlanguages: [es, en]\ndefault_language: es\nbase_url: https://example.org/\n"
        "title: {es: Corpus de prueba, en: Test corpus}\n"
        "description: {es: Un corpus sintético., en: A synthetic corpus.}\n"
        "tags:\n  seguridad: {es: Seguridad, en: Security}\n  comercio: {es: Comercio, en: Trade}\n",
        "utf-8",
    )
    (content / "sources" / "source.yml").write_text(
        "title: {es: Fuente, en: Source}\nkind: article\nlanguage: es\nfile: seeds/source.txt\n", "utf-8"
    )
    (content / "organizations" / "agency.yml").write_text(
        "name: {es: Agencia, en: Agency}\nsummary: {es: Una agencia., en: An agency.}\n"
        "sources: [{source: source, paragraphs: [1]}]\n",
        "utf-8",
    )
    ids = {kind: [f"{kind[:-1]}-{i:05d}" for i in range(count)] for kind, count in counts.items()}
    kind_of = {"events": "event", "people": "person", "agreements": "agreement", "terms": "term"}

    def refs() -> list[str]:
        picks = []
        for kind in ("people", "agreements", "terms"):
            picks.append(f"{kind_of[kind]}:{rng.choice(ids[kind])}")
        return picks

    def citation() -> str:
        number = rng.randrange(PARAGRAPHS)
        quote = " ".join(paragraphs[number].split()[2:6])
        return f'sources: [{{source: source, paragraphs: [{number + 1}], quote: "{quote}"}}]\n'

    def texts(name: str) -> str:
        es, en = _body(rng, WORDS_ES, refs()), _body(rng, WORDS_EN, refs())
        return f"{name}:\n  es: {_block(es)}\n  en: {_block(en)}\n"

    for i, entry_id in enumerate(ids["events"]):
        year = 2000 + i % 27
        date = f"{year}-{1 + i % 12:02d}-{1 + i % 28:02d}"
        people = rng.sample(ids["people"], min(2, len(ids["people"])))
        agreements = rng.sample(ids["agreements"], 1)
        tag = rng.choice(["seguridad", "comercio"])
        (content / "events" / f"{entry_id}.yml").write_text(
            f'date: "{date}"\nstatus: happened\n'
            f"title: {{es: Hecho {i}, en: Event {i}}}\n"
            f"summary: {{es: {_sentence(rng, WORDS_ES, 10)}, en: {_sentence(rng, WORDS_EN, 10)}}}\n"
            + texts("body")
            + f"people: [{', '.join(people)}]\nagreements: [{', '.join(agreements)}]\ntags: [{tag}]\n"
            + citation(),
            "utf-8",
        )
    for i, entry_id in enumerate(ids["people"]):
        (content / "people" / f"{entry_id}.yml").write_text(
            f"name: Persona Número {i}\ncountry: {'mx' if i % 2 else 'us'}\n"
            f"summary: {{es: {_sentence(rng, WORDS_ES, 8)}, en: {_sentence(rng, WORDS_EN, 8)}}}\n"
            "roles:\n  - title: {es: Ministra, en: Minister}\n    organization: agency\n"
            f'    start: "{2000 + i % 26}"\n' + texts("bio") + citation(),
            "utf-8",
        )
    for i, entry_id in enumerate(ids["agreements"]):
        replaces = f"replaces: [{ids['agreements'][i - 1]}]\n" if i % 5 else ""
        (content / "agreements" / f"{entry_id}.yml").write_text(
            f"name: {{es: Acuerdo {i}, en: Agreement {i}}}\nkind: framework\n"
            f'date: "{2000 + i % 26}"\nparties: [mx, us]\n{replaces}'
            f"summary: {{es: {_sentence(rng, WORDS_ES, 8)}, en: {_sentence(rng, WORDS_EN, 8)}}}\n"
            + texts("body")
            + citation(),
            "utf-8",
        )
    for i, entry_id in enumerate(ids["terms"]):
        (content / "terms" / f"{entry_id}.yml").write_text(
            f"term: {{es: Término {i}, en: Term {i}}}\n" + texts("definition") + citation(), "utf-8"
        )
    return counts


if __name__ == "__main__":
    total = write_corpus(int(sys.argv[1]), Path(sys.argv[2]))
    print(f"wrote {sum(total.values())} entries: {total}")
