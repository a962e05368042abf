"""Rule ingest: a raw release and its codebook -> canonical respondent-level data."""
from .. import derive
from ..io import codebook as cb
from ..io import read
from ..io.files import write_csv, write_parquet


def ingest(dataset: dict, raw: str, interim: str, report: str) -> None:
    """Canonical parquet (with the survey's derivations) and the per-code count report."""
    book = cb.load_codebook(dataset["codebook"])
    frame = read.read_raw(raw, book.sources)
    canonical, code_report = cb.apply_codebook(frame, book, dataset["undeclared_codes"])
    write_parquet(derive.derive_all(canonical, book.survey, book.dataset), interim)
    write_csv(code_report, report, float_format=None)
