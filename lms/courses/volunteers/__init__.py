"""Pilot groups of volunteers: a trainer's call for volunteers for a cohort, people who
volunteer from their dashboard, and the trainer's decisions (accepted volunteers are enrolled).
"""
