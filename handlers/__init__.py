"""Telegram faces of the bot: parse the update, call one storage operation, render, reply."""
