"""Cohorts: learners following a program together, their enrolments, and their
progress (a projection of xAPI statements, judged by the completion rules).
"""
