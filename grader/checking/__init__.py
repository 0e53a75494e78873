"""The checking stage: comparisons (:mod:`.comparisons`), the ``cases`` check (:mod:`.cases`),
the net checks (:mod:`.nets`), what a check is given (:mod:`.context`), how values are shown
(:mod:`.display`), seeded random inputs (:mod:`.generators`) and ``grade check-exercises``
(:mod:`.spec_check`)."""
