"""Reading survey releases (SPSS, Stata) and applying a codebook."""
