from rlhub_web_browse.env import WebBrowse

__all__ = ["WebBrowse"]
