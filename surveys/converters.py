class PeriodConverter:
    """A month in URLs: YYYY-MM (kept as the string; views parse it with period_parse)."""

    regex = r"[0-9]{4}-[0-9]{2}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value
