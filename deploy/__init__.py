"""Running the app as several replicas behind a sticky nginx: the proxy configuration
(nginx.conf.template), the local launcher (replicas.py), a compose example (compose.yaml) and the
load test's results (LOAD.md); README.md says how to use them."""
