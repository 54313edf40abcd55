"""Programs: blended curricula and their modules, lessons and quizzes; the catalogue,
the YAML/Markdown format, the builder and the quiz editor.
"""
