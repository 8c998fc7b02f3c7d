"""State and the rules over it. Imports nothing from telegram, handlers or bot."""
