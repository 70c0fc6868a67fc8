"""The analysis side: reads run and sweep folders, never the model.

It computes the comparison statistics and draws the plots from files only.
"""
