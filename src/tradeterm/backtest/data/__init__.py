"""Historical candles: Binance's public archive + ccxt REST, stored as one parquet per symbol and
timeframe (see ``docs/data.md``). Submodules are imported explicitly, only the archive's
default address lives here (light, shared by the CLI and the downloader)."""

DEFAULT_ARCHIVE_URL = "https://data.binance.vision"
