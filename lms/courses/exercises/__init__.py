"""On-the-job exercises: settings, evidence, reviews against the rubric, verification
by advocacy activity, and AFEST records (reads in ``queries``, writes in ``services``).
"""
