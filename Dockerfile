# chaosbus in a container: the interposer, the experiment runner and the demo services.
#   docker build -t chaosbus .
#   docker run --rm chaosbus --help
# Every dependency installs from a binary wheel on python:3.11-slim; no compiler is needed.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY pyproject.toml README.md ./
COPY chaosbus ./chaosbus
COPY injectors ./injectors
COPY streams ./streams
COPY monitors ./monitors
RUN pip install .

# The experiment library, run as `chaosbus run experiments/NAME.yaml`.
COPY experiments ./experiments

RUN useradd --create-home --uid 10001 chaosbus && mkdir -p /out && chown chaosbus /out
USER chaosbus

ENTRYPOINT ["chaosbus"]
CMD ["--help"]
