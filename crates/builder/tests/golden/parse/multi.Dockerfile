# syntax=docker/dockerfile:1
# escape=\
ARG BASE=busybox
ARG TAG

FROM ${BASE}:${TAG:-latest} AS Build
ARG V=1 W
ENV A=1 B="two words" \
    C=$A
LABEL org.example.v=$V other='single quoted'
WORKDIR /src
COPY --chown=1000:1000 --chmod=644 a.txt b/ ./
RUN --mount=type=cache,target=/root/.cache \
    --network=none \
    echo build && \
    # a comment inside a continuation
    make all
RUN ["sh", "-c", "echo exec form"]
RUN <<EOF
echo heredoc
EOF

FROM scratch
COPY --from=build /src/out /out
EXPOSE 80 53/udp
VOLUME ["/data"]
USER 1000:1000
HEALTHCHECK --interval=5s --retries=3 CMD wget -q localhost
STOPSIGNAL SIGINT
SHELL ["/bin/ash", "-c"]
ONBUILD RUN echo triggered
ENTRYPOINT ["/out"]
CMD --help
