"""Recurrent-network tools: cells, truncated BPTT, the gradient story and the binary-addition toy."""
