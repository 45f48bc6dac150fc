"""The job core the API and the worker share: settings, the database and its rows, the job
graph, dispatch and the reaper. It imports neither `app` nor `worker`."""
