"""The briefing bot: cited answers about news articles, offline.

Public entry points (imported from their modules, so `briefing --help` stays fast):
- bot.config.Settings            every setting, from BRIEFING_* environment variables
- bot.sources.load_input         a file, folder, feed or URL -> articles + problems
- bot.ingest.ingest_inputs       inputs into the index, with progress bars
- bot.sync.sync                  keep the index in step with feeds, folders and URLs
- bot.store.Store                the Chroma index of passages
- bot.answer.Briefer             ask()/stream() a question -> Answer (the GUIDE's answer JSON);
                                 as_runnable(): the chain as a LangChain Runnable
- bot.retrieval.BriefingRetriever  the hybrid search as a LangChain retriever (Documents)
- bot.llm.LlamaCppChat           a GGUF model via llama-cpp-python as a LangChain chat model
- bot.evaluate.run_eval          score a question set and write the report
"""
