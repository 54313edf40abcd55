"""Sessions: dated workshops, conferences and group trainings of a cohort, seats and
waiting lists, manager approvals, attendance per half-day, the sign-in sheet and
QR sign-in.
"""
