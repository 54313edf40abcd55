"""E-learning: lessons (Markdown rendered safely) and quizzes, what learners read and
answer, recorded as xAPI statements.
"""
