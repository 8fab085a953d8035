"""The internet-facing relay (`madoguchi relay`): residents' pages and live figures, with no
database and no personal data. The queue server pushes anonymised state to it, outbound only;
see docs/relay.md."""
