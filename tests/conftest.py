import os
from pathlib import Path
import pytest

@pytest.fixture(scope="session")
def data_dir() -> Path:
    return Path(os.environ.get("XLT_DATA_DIR", Path(__file__).resolve().parents[1].parent / "shared" / "data"))
