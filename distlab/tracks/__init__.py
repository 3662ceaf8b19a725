"""The course: tracks of graded tasks (content in the folders here, format in FORMAT.md)
and the engine that lists, starts, grades and verifies them."""
