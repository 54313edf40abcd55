"""Surveys sent by rules on programs: the rules, the invitations they create, the answers
(kept without the person for an anonymous survey) and their results per cohort and program.
"""
