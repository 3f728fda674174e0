"""The synthetic oracle domain: the paper's LSTM oracle plays the real data (Table 1, Figure 2)."""
