"""The briefing bot: cited answers about news articles, offline.

Public entry points (imported from their modules, so `briefing --help` stays fast):
- bot.config.Settings            every setting, from BRIEFING_* environment variables
- bot.articles.load_paths        files and folders -> Article records
- bot.ingest.ingest_paths        articles into the index, with a progress bar
- bot.store.Store                the Chroma index of passages
- bot.answer.Briefer             ask()/stream() a question -> Answer (the GUIDE's answer JSON)
- bot.evaluate.run_eval          score a question set and write the report
"""
